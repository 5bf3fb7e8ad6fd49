import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import { SECOND } from '../../src/units.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });

describe('jobs the queue fails on its own', () => {
  it('get a failed result naming the reason, and their batch ends', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        redisUrl: ctx.url,
        prefix: ctx.prefix,
        endpoint: pipe.sim.url,
        // No stall is survived: a job whose worker died is failed by BullMQ at once.
        worker: { concurrency: 2, lockDurationMs: SECOND, stalledIntervalMs: 200, maxStalledCount: 0 },
      },
    });
    const keys = keysFor(ctx.prefix);
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    await producer.enqueueBatch(
      [{ id: 'lost', task: 'generate' as const, messages: [{ role: 'user' as const, content: 'hello' }] }],
      { batchId: 'crash-loop' },
    );
    // A worker takes the job and dies holding it: its lock is never renewed nor released.
    const dying = new Worker(keys.queueName, null, {
      connection: { url: ctx.url },
      prefix: keys.bullPrefix,
      lockDuration: SECOND,
    });
    const taken = await dying.getNextJob(randomUUID());
    expect(taken?.id).toBe('lost');
    await dying.close();

    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5 * SECOND }) });
    const counters = await producer.waitForBatch('crash-loop', { pollMs: 100 });

    expect(counters).toMatchObject({ total: 1, completed: 0, failed: 1 });
    const result = await new ResultStore(ctx.redis, { prefix: ctx.prefix, ttlSeconds: 3600 }).get('lost');
    expect(result).toMatchObject({ id: 'lost', batchId: 'crash-loop', status: 'failed', modelId: null });
    expect(result?.error).toMatch(/stalled/);
  });
});
