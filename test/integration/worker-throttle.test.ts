import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import type { BatchCounters } from '../../src/results/record.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { runInLockstep } from '../helpers/lockstep.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const SECOND = 1_000;
/** Sleeps due sooner are waits between calls; a call's own timeout is minutes away. */
const HORIZON_MS = 10 * SECOND;
/** Backoff without jitter: every wait is half its ceiling. */
const rand = (): number => 0.5;

const ctx = useRedis();
let running: { producer?: Producer; worker?: RunningWorker; sim?: ProfileSimulator } = {};

afterEach(async () => {
  await running.worker?.close({ deadlineMs: 5_000 });
  await running.producer?.close();
  await running.sim?.close();
  running = {};
});

/**
 * The simulator, with Claude's quota, and the worker share one clock that moves only when
 * every running job waits on it: quotas refill and backoffs end in virtual time, exactly.
 */
async function startSimulator(clock: ManualClock, rpm: number): Promise<ProfileSimulator> {
  running.sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { [CLAUDE]: { rpm, tpm: 1e9 } } }),
    clock,
  });
  return running.sim;
}

function testConfig(sim: ProfileSimulator, fleetRpm?: number): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: sim.url,
      chains: { default: ['claude-3-haiku'] },
      ...(fleetRpm ? { models: { [CLAUDE]: { rpm: fleetRpm, tpm: 1e9 } } } : {}),
      policy: {
        retry: { maxAttempts: 3, baseDelayMs: 20, throttleBaseDelayMs: 250, maxDelayMs: 1_000 },
      },
      // The queue's pause when every model is busy runs on BullMQ's own (real) clock: kept short.
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 3, busyBackoffMs: 1 },
    },
  });
}

async function runBatch(
  config: Config,
  clock: ManualClock,
  count: number,
  fleetRateLimits: boolean,
): Promise<BatchCounters> {
  const producer = createProducer({ redis: ctx.url, prefix: config.prefix, config });
  running.producer = producer;
  const { batchId } = await producer.enqueueBatch(
    Array.from({ length: count }, (_, i) => ({
      id: `t${i}`,
      task: 'generate' as const,
      messages: [{ role: 'user' as const, content: `Question ${i}` }],
    })),
  );
  running.worker = await startWorker({ config, fleetRateLimits, clock, rand });
  return runInLockstep({
    producer,
    batchId,
    clock,
    concurrency: config.worker.concurrency,
    horizonMs: HORIZON_MS,
  });
}

// Every step of the clock waits for real calls, Redis and BullMQ: generous bounds, so a slow
// machine makes the tests slower, never failed.
describe('throttling', { timeout: 2 * 60 * SECOND }, () => {
  it('finishes every job when the quota is far below demand, backing off instead of hammering', async () => {
    // 60 requests a minute: a burst of 60, then one a second, for 70 jobs.
    const rpm = 60;
    const jobs = 70;
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const startedAt = clock.now();
    const sim = await startSimulator(clock, rpm);
    const config = testConfig(sim);

    const done = await runBatch(config, clock, jobs, false);
    const elapsedMs = clock.now() - startedAt;
    const s = sim.admin.stats().models[CLAUDE]!;
    process.stdout.write(
      `throttling: ${done.completed}/${jobs} completed in ${elapsedMs / SECOND} s of the clock, ${s.throttled} throttled calls (${(s.throttled / done.completed).toFixed(2)} per job)\n`,
    );

    const refillMs = (jobs - rpm) * ((60 * SECOND) / rpm);
    const { throttleBaseDelayMs, maxAttempts } = config.policy.retry;
    // The backoffs of one run down the chain (125 ms, 250 ms) before the queue pauses the job.
    const runMs = throttleBaseDelayMs * rand() * (2 ** (maxAttempts - 1) - 1);
    const longestBackoffMs = throttleBaseDelayMs * rand() * 2 ** (maxAttempts - 2);
    // Jobs past the burst were paused by the queue more often than their 3 BullMQ attempts
    // allow for failures: a pause spends none.
    expect(done).toMatchObject({ total: jobs, completed: jobs, failed: 0 });
    expect(s.ok).toBe(jobs);
    // Never admitted ahead of the quota, and each second's request is taken within a backoff
    // of its refill: some job is always about to call again.
    expect(elapsedMs).toBeGreaterThanOrEqual(refillMs);
    expect(elapsedMs).toBeLessThanOrEqual(refillMs + longestBackoffMs);
    // Each job slot calls at most `maxAttempts` times per run of backoffs, however many times
    // a second Bedrock says no.
    const bound = config.worker.concurrency * maxAttempts * (Math.ceil(elapsedMs / runMs) + 1);
    expect(s.throttled).toBeGreaterThan(0);
    expect(s.throttled).toBeLessThanOrEqual(bound);
  });

  it('keeps calls under the quota with the fleet-wide limiter, so Bedrock never throttles', async () => {
    // The same quota on both sides: 120 requests a minute, one per 500 ms from a cold start.
    const rpm = 120;
    const jobs = 40;
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const startedAt = clock.now();
    const sim = await startSimulator(clock, rpm);
    const config = testConfig(sim, rpm);

    const done = await runBatch(config, clock, jobs, true);
    const elapsedMs = clock.now() - startedAt;
    const s = sim.admin.stats().models[CLAUDE]!;

    expect(done).toMatchObject({ total: jobs, completed: jobs, failed: 0 });
    expect(s).toMatchObject({ calls: jobs, ok: jobs, throttled: 0 });
    // One second of quota at once (limiter.burstSeconds), then evenly spaced: a minute's
    // quota is never let out in a burst.
    const burstCalls = (rpm / 60) * config.limiter.burstSeconds;
    expect(burstCalls).toBe(2);
    expect(elapsedMs).toBe((jobs - burstCalls) * ((60 * SECOND) / rpm));
  });
});
