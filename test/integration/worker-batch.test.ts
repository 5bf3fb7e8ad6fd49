import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { keysFor } from '../../src/queue/keys.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import { resultLines } from '../../src/results/export.js';
import { ResultStore } from '../../src/results/store.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
let sim: ProfileSimulator;
let running: { producer?: Producer; worker?: RunningWorker } = {};

beforeAll(async () => {
  sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { '*': { rpm: 1e9, tpm: 1e12 } } }),
  });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await running.worker?.close({ deadlineMs: 5_000 });
  await running.producer?.close();
  running = {};
  sim.admin.reset();
});

describe('a batch of 1,000 through the worker', () => {
  it('gives exactly 1,000 results, counters that agree, and runs nothing twice', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        redisUrl: ctx.url,
        prefix: ctx.prefix,
        endpoint: sim.url,
        worker: { concurrency: 32, shutdownTimeoutMs: 5_000, jobAttempts: 3, busyBackoffMs: 50 },
      },
    });
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config });
    running = { producer, worker: await startWorker({ config, fleetRateLimits: false }) };
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
    expect(sim.admin.stats().total.ok).toBe(1_000);
    expect(streamed).toBe(1_000);
    expect(rows).toBe(1_001);
  }, 60_000);
});
