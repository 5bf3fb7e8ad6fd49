import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { resultLines } from '../../src/results/export.js';
import { ResultStore } from '../../src/results/store.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });

describe('a batch of 1,000 through the worker', () => {
  it('gives exactly 1,000 results, counters that agree, and runs nothing twice', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        redisUrl: ctx.url,
        prefix: ctx.prefix,
        endpoint: pipe.sim.url,
        worker: { concurrency: 32, shutdownTimeoutMs: 5_000, jobAttempts: 3, busyBackoffMs: 50 },
      },
    });
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const jobs = Array.from({ length: 1_000 }, (_, i) => ({
      id: `job-${i}`,
      task: 'generate' as const,
      messages: [{ role: 'user' as const, content: `Question ${i}` }],
    }));

    const first = await producer.enqueueBatch(jobs, { batchId: 'thousand' });
    const twice = await producer.enqueue(jobs[0]!);
    const counters = await producer.waitForBatch('thousand', { pollMs: 200 });
    const again = await producer.enqueueBatch(jobs, { batchId: 'thousand' });
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix, ttlSeconds: 3600 });
    let rows = 0;
    for await (const line of resultLines(store, 'thousand', { format: 'csv' }))
      rows += line.split('\r\n').filter(Boolean).length;
    const streamed = await ctx.redis.xlen(keysFor(ctx.prefix).results);

    expect(first).toMatchObject({ enqueued: 1_000, duplicates: 0 });
    expect(twice.status).toBe('duplicate');
    expect(counters).toEqual({ batchId: 'thousand', total: 1_000, completed: 1_000, failed: 0 });
    expect(again).toMatchObject({ enqueued: 0, duplicates: 1_000 });
    expect(await producer.getBatch('thousand')).toEqual(counters);
    expect(pipe.sim.admin.stats().total.ok).toBe(1_000);
    // One entry per job, and one that marks the batch done.
    expect(streamed).toBe(1_001);
    expect(rows).toBe(1_001);
    // A thousand real calls and Redis round trips: a generous bound, so a slow machine is never a failure.
  }, 180_000);
});

describe('completed jobs a producer added', () => {
  it('are kept as the worker says, and an id BullMQ let go of stays taken by its result', async () => {
    const config = loadConfig({
      env: {},
      overrides: { redisUrl: ctx.url, prefix: ctx.prefix, endpoint: pipe.sim.url },
    });
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const worker = await startWorker({ config, fleetRateLimits: false, keepCompletedCount: 3 });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const keys = keysFor(ctx.prefix);
    const jobs = Array.from({ length: 10 }, (_, i) => ({
      id: `kept-${i}`,
      task: 'generate' as const,
      messages: [{ role: 'user' as const, content: `Question ${i}` }],
    }));

    await producer.enqueueBatch(jobs, { batchId: 'kept' });
    const counters = await producer.waitForBatch('kept', { pollMs: 50 });
    // Closing lets BullMQ finish the jobs whose results are written, trimming as it goes.
    await worker.close({ deadlineMs: 5_000 });
    const held = await Promise.all(jobs.map((j) => ctx.redis.exists(keys.bullJob(j.id))));
    const again = await producer.enqueueBatch(jobs, { batchId: 'kept' });

    expect(counters).toMatchObject({ total: 10, completed: 10 });
    expect(held.filter((n) => n === 1)).toHaveLength(3);
    expect(again.jobs.every((j) => j.status === 'duplicate' && j.existing === 'completed')).toBe(true);
  }, 60_000);
});
