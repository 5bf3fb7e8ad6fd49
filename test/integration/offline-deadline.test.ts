import { BedrockClient, GetModelInvocationJobCommand } from '@aws-sdk/client-bedrock';
import { Job, Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { offlineView } from '../../src/offline/view.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import { startOfflineLaneOnClock } from '../helpers/offline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

const open: { close(): Promise<unknown> | unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

describe('a batch whose deadline passes while its invocation job runs', () => {
  it('runs its jobs online at the deadline, and the invocation job is stopped', async () => {
    // The simulator's clock never moves: the invocation job stays where it is until stopped.
    const { sim, producer } = await startOfflineLaneOnClock(ctx, 'bj-deadline', open);
    const bedrock = new BedrockClient({
      region: 'us-east-1',
      endpoint: sim.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    open.push({ close: () => bedrock.destroy() });
    const keys = keysFor(ctx.prefix);
    const jobs = Array.from({ length: 100 }, (_, i) => ({
      id: `late-${i}`,
      task: 'summarize' as const,
      document: `Invoice ${i}: 100 EUR due on 1 March 2027.`,
      models: [HAIKU],
    }));

    await producer.enqueueBatch(jobs, { batchId: 'late', lane: 'offline' });
    await expect
      .poll(async () => (await offlineView(ctx.redis, keys, 'late'))?.invocationJobs[0]?.jobArn, {
        timeout: 30_000,
      })
      .toBeDefined();
    // The deadline comes while the job runs: the jobs' delays end, and the lane's deadline is now.
    const queue = new Queue(keys.queueName, { connection: ctx.redis, prefix: keys.bullPrefix });
    open.push(queue);
    for (const { id } of jobs) await (await Job.fromId(queue, id))?.changeDelay(0);
    await ctx.redis.hset(keys.offline('late'), 'deadline', String(Date.now()));
    const counters = await producer.waitForBatch('late', { pollMs: 100 });
    await expect
      .poll(async () => (await offlineView(ctx.redis, keys, 'late'))?.done, { timeout: 30_000 })
      .toBe(true);
    const view = await offlineView(ctx.redis, keys, 'late');
    const arn = view?.invocationJobs[0]?.jobArn;
    const job = await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: arn }));
    const results = await new ResultStore(ctx.redis, { prefix: ctx.prefix }).getMany(jobs.map((j) => j.id));

    expect(counters).toEqual({ batchId: 'late', total: 100, completed: 100, failed: 0 });
    expect(results.every((r) => r?.lane === 'online' && r.modelId === HAIKU)).toBe(true);
    expect(view?.invocationJobs[0]).toMatchObject({ message: 'the deadline passed; its calls ran online' });
    expect(['Stopping', 'Stopped']).toContain(job.status);
    expect(sim.admin.stats().batch.models[HAIKU]).toMatchObject({ jobsCreated: 1, recordsProcessed: 0 });
  }, 60_000);
});
