import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { batchStatus } from '../../src/queue/batch-status.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'producer-dies-after-claim.ts');

/** Runs the dying producer to its end and returns how it ended. */
function producerKilledAfterClaim(batchId: string, jobs: number) {
  return new Promise<{ signal: NodeJS.Signals | null; stdout: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, ctx.url, ctx.prefix, batchId, String(jobs)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stdout }));
  });
}

describe('an enqueue killed between claim and add', () => {
  it('is repaired by an immediate retry: every job queued once and the batch finishes', async () => {
    const config = loadConfig({
      env: {},
      overrides: { redisUrl: ctx.url, prefix: ctx.prefix, endpoint: pipe.sim.url },
    });
    const keys = keysFor(ctx.prefix);
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix, ttlSeconds: 3600 });
    const queue = pipe.track(new Queue(keys.queueName, { connection: ctx.redis, prefix: keys.bullPrefix }));
    const jobs = Array.from({ length: 40 }, (_, i) => ({
      id: `crash-${i}`,
      task: 'generate' as const,
      messages: [{ role: 'user' as const, content: `Question ${i}` }],
    }));

    const died = await producerKilledAfterClaim('crashed', jobs.length);
    const afterCrash = await batchStatus(ctx.redis, keys, store, 'crashed');
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const retry = await producer.enqueueBatch(jobs, { batchId: 'crashed' });
    const queued = await queue.getJobCounts('waiting');
    const afterRetry = await batchStatus(ctx.redis, keys, store, 'crashed');
    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const final = await producer.waitForBatch('crashed', { pollMs: 100 });
    const stream = await ctx.redis.xrange(keys.results, '-', '+');
    const jobEntries = stream.filter(([, fields]) => fields.includes('id'));
    const streamIds = jobEntries.map(([, fields]) => fields[fields.indexOf('id') + 1]);
    const doneEntries = stream.filter(([, fields]) => fields[fields.indexOf('status') + 1] === 'done');

    expect(died).toEqual({ signal: 'SIGKILL', stdout: 'claimed\n' });
    expect(afterCrash).toEqual({
      batchId: 'crashed',
      total: 40,
      completed: 0,
      failed: 0,
      // The dead enqueue never sealed it: it cannot be done with 40 jobs missing.
      sealed: false,
      done: false,
      waiting: 0,
      active: 0,
      missing: 40,
      lanes: {
        online: { completed: 0, failed: 0, costUsd: 0 },
        offline: { completed: 0, failed: 0, costUsd: 0, onlineCostUsd: 0 },
      },
    });
    expect(retry).toMatchObject({ enqueued: 40, duplicates: 0 });
    expect(queued.waiting).toBe(40);
    expect(afterRetry).toMatchObject({ total: 40, waiting: 40, missing: 0 });
    expect(final).toEqual({ batchId: 'crashed', total: 40, completed: 40, failed: 0 });
    expect(new Set(streamIds).size).toBe(40);
    expect(streamIds).toHaveLength(40);
    expect(doneEntries).toHaveLength(1);
  });

  it('does not add a job twice when the same call repeats an id, nor count it twice', async () => {
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix }));
    const job = {
      id: 'twin',
      task: 'generate' as const,
      messages: [{ role: 'user' as const, content: 'Hi' }],
    };

    const result = await producer.enqueueBatch([job, job], { batchId: 'twins' });

    expect(result.jobs).toEqual([
      { id: 'twin', status: 'enqueued' },
      { id: 'twin', status: 'duplicate', existing: 'queued' },
    ]);
    expect(await producer.getBatch('twins')).toMatchObject({ total: 1 });
  });
});
