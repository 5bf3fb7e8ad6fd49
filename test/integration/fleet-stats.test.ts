import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { readFleetSeries, readModelStats } from '../../src/metrics/fleet-stats-reader.js';
import { FleetStatsWriter } from '../../src/metrics/fleet-stats-writer.js';
import { windowStart } from '../../src/metrics/fleet-windows.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { usePipeline } from '../helpers/pipeline.js';
import { parseExposition, sampleSum } from '../helpers/prometheus-text.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-1-70b-instruct-v1:0';
const RETENTION_SECONDS = 3_600;

const ctx = useRedis();
const pipe = usePipeline();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

/** A writer as one worker process has it: a connection of its own, flushed by the test. */
async function worker(clock?: ManualClock): Promise<FleetStatsWriter> {
  const redis = new Redis(ctx.url);
  open.push({ close: async () => void (await redis.quit()) });
  const writer = new FleetStatsWriter({
    redis,
    keys: keysFor(ctx.prefix),
    flushMs: 60_000,
    retentionSeconds: RETENTION_SECONDS,
    ...(clock ? { clock } : {}),
  });
  await writer.start();
  open.push(writer);
  return writer;
}

/** Runs `count` jobs to completion; whichever worker is not paused takes them. */
async function runJobs(producer: Producer, batchId: string, count: number): Promise<void> {
  await producer.enqueueBatch(
    Array.from({ length: count }, (_, i) => ({
      id: `${batchId}-${i}`,
      task: 'generate' as const,
      messages: [{ role: 'user' as const, content: `Question ${i}` }],
    })),
    { batchId },
  );
  await producer.waitForBatch(batchId, { pollMs: 50 });
}

async function okCalls(worker: RunningWorker, model: string): Promise<number | undefined> {
  return sampleSum(parseExposition(await worker.metrics.render()), 'bedrock_jobs_model_calls_total', {
    model,
    outcome: 'ok',
  });
}

describe('fleet stat windows in Redis', () => {
  it('hold the sum of what two worker processes did, each of which counts only its own', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        redisUrl: ctx.url,
        prefix: ctx.prefix,
        endpoint: pipe.sim.url,
        chains: { default: [CLAUDE] },
        worker: { concurrency: 2, shutdownTimeoutMs: 5_000 },
        stats: { flushMs: 50 },
      },
    });
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const first = await startWorker({ config });
    pipe.track({ close: () => first.close({ deadlineMs: 5_000 }) });
    const second = await startWorker({ config });
    pipe.track({ close: () => second.close({ deadlineMs: 5_000 }) });
    const fleetOk = async () =>
      (await readModelStats(ctx.redis, keysFor(ctx.prefix), { windowsSeconds: [60] }))[0]?.models[CLAUDE]?.ok;

    await second.worker.pause();
    await runJobs(producer, 'first', 5);
    await second.worker.resume();
    await first.worker.pause();
    await runJobs(producer, 'second', 3);
    // Each worker writes its counts every stats.flushMs: read until both are in.
    await expect.poll(fleetOk, { timeout: 15_000 }).toBe(8);

    expect(await okCalls(first, CLAUDE)).toBe(5);
    expect(await okCalls(second, CLAUDE)).toBe(3);
  });

  it("adds two workers' counts, and reads p50 and p95 from their merged latency buckets", async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1, 12, 0, 5));
    const keys = keysFor(ctx.prefix);
    const [a, b] = [await worker(clock), await worker(clock)];

    for (let i = 0; i < 10; i++) a.call(CLAUDE, 'ok', 30);
    a.call(CLAUDE, 'throttled', 4);
    a.call(CLAUDE, 'throttled', 4);
    a.refused(CLAUDE, 'circuit_open');
    a.fallback(CLAUDE, LLAMA);
    for (let i = 0; i < 10; i++) b.call(CLAUDE, 'ok', 700);
    b.call(CLAUDE, 'unavailable', 3);
    b.fallback(CLAUDE, LLAMA);
    b.fallback(CLAUDE, LLAMA);
    b.call(LLAMA, 'ok', 90);
    await Promise.all([a.flush(), b.flush()]);
    const [minute] = await readModelStats(ctx.redis, keys, { windowsSeconds: [60], clock });

    expect(minute?.models[CLAUDE]).toMatchObject({
      calls: 23,
      ok: 20,
      throttles: 2,
      errors: { throttled: 2, unavailable: 1 },
      refused: { circuitOpen: 1, rateLimited: 0 },
      fallbacksOut: { total: 3, to: { [LLAMA]: 3 } },
    });
    // Ten answers in (25, 50] ms from one worker and ten in (500, 1000] ms from the other: the
    // median is the top of the first bucket, the 95th percentile nine tenths into the second.
    expect(minute?.models[CLAUDE]?.latencyMs).toMatchObject({ count: 20, p50: 50, p95: 950 });
    expect(minute?.models[LLAMA]).toMatchObject({ calls: 1, ok: 1, fallbacksOut: { total: 0 } });
  });

  it("drops old windows from a span as the fleet's clock moves on, and lets Redis expire them", async () => {
    const start = Date.UTC(2025, 0, 1, 12, 0, 5);
    const clock = new ManualClock(start);
    const keys = keysFor(ctx.prefix);
    const writer = await worker(clock);
    writer.call(CLAUDE, 'ok', 30);
    await writer.flush();
    const callsIn = async () =>
      (await readModelStats(ctx.redis, keys, { windowsSeconds: [60, 300], clock })).map(
        (w) => w.models[CLAUDE]?.calls ?? 0,
      );

    const atOnce = await callsIn();
    clock.advance(60_000);
    const aMinuteLater = await callsIn();
    clock.advance(240_000);
    const fiveMinutesLater = await callsIn();
    const ttlMs = await ctx.redis.pttl(keys.statsWindow(windowStart(start)));

    expect(atOnce).toEqual([1, 1]);
    expect(aMinuteLater).toEqual([0, 1]);
    expect(fiveMinutesLater).toEqual([0, 0]);
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual((RETENTION_SECONDS + 10) * 1_000);
  });

  it('gives the fleet completions, failures and failed calls per second, oldest first', async () => {
    const start = Date.UTC(2025, 0, 1, 12, 0, 9, 500); // the last second of a window
    const clock = new ManualClock(start);
    const keys = keysFor(ctx.prefix);
    const [a, b] = [await worker(clock), await worker(clock)];

    a.jobFinished('completed');
    a.jobFinished('completed');
    b.jobFinished('failed');
    b.call(CLAUDE, 'unavailable', 3);
    clock.advance(1_000); // the next second, in the next window
    b.jobFinished('completed');
    await Promise.all([a.flush(), b.flush()]);
    clock.advance(1_000);
    const series = await readFleetSeries(ctx.redis, keys, 4, { clock });

    const second = Math.floor(start / 1_000) * 1_000;
    expect(series).toEqual([
      { t: second - 2_000, completed: 0, failed: 0, callErrors: 0 },
      { t: second - 1_000, completed: 0, failed: 0, callErrors: 0 },
      { t: second, completed: 2, failed: 1, callErrors: 1 },
      { t: second + 1_000, completed: 1, failed: 0, callErrors: 0 },
    ]);
  });

  it("puts writers and readers on Redis's clock when none is injected", async () => {
    const keys = keysFor(ctx.prefix);
    const [a, b] = [await worker(), await worker()];

    a.call(LLAMA, 'ok', 120);
    b.call(LLAMA, 'timeout', 120_000);
    a.jobFinished('completed');
    await Promise.all([a.flush(), b.flush()]);
    const [minute] = await readModelStats(ctx.redis, keys, { windowsSeconds: [60] });
    // The second the job finished in may still be in progress: read until it is whole.
    await expect
      .poll(async () => (await readFleetSeries(ctx.redis, keys, 60)).reduce((n, p) => n + p.completed, 0), {
        timeout: 10_000,
      })
      .toBe(1);

    expect(minute?.models[LLAMA]).toMatchObject({ calls: 2, ok: 1, errors: { timeout: 1 } });
  });

  it('refuses a span that is not a whole number of seconds up to a day', async () => {
    const keys = keysFor(ctx.prefix);

    await expect(readModelStats(ctx.redis, keys, { windowsSeconds: [0] })).rejects.toThrow();
    await expect(readModelStats(ctx.redis, keys, { windowsSeconds: [1.5] })).rejects.toThrow();
    await expect(readFleetSeries(ctx.redis, keys, 3_601)).rejects.toThrow();
  });
});
