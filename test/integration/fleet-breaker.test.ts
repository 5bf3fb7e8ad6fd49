import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import type { ResultRecord } from '../../src/results/record.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-70b-instruct-v1:0';
const HALF_OPEN_MS = 30_000;

const ctx = useRedis();
const pipe = usePipeline();

function testConfig(): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      chains: { default: [CLAUDE, LLAMA] },
      // One call per model per job and no limiter: no job ever sleeps, so the clock moves only
      // when the test moves it.
      policy: {
        retry: { maxAttempts: 1 },
        breaker: { consecutiveFailures: 3, halfOpenAfterMs: HALF_OPEN_MS },
      },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 3, busyBackoffMs: 50 },
    },
  });
}

/** A worker as a separate process of the fleet would run it: its own connections and breakers. */
async function worker(config: Config, clock: ManualClock): Promise<RunningWorker> {
  const w = await startWorker({ config, clock, fleetRateLimits: false });
  pipe.track({ close: () => w.close({ deadlineMs: 5_000 }) });
  return w;
}

let batches = 0;
async function runBatch(producer: Producer, count: number): Promise<ResultRecord[]> {
  const batchId = `b${batches++}`;
  const jobs = Array.from({ length: count }, (_, i) => ({
    id: `${batchId}-${i}`,
    task: 'generate' as const,
    messages: [{ role: 'user' as const, content: `Question ${i}` }],
  }));
  await producer.enqueueBatch(jobs, { batchId });
  await producer.waitForBatch(batchId, { pollMs: 50 });
  return (await Promise.all(jobs.map((j) => producer.getResult(j.id)))).map((r) => r!);
}

describe('breaker state shared by the fleet', () => {
  it('stops every worker calling a model one worker found dead, and lets one probe through for all', async () => {
    const config = testConfig();
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const claudeCalls = (): number => pipe.sim.admin.stats().models[CLAUDE]?.calls ?? 0;
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });

    const first = await worker(config, clock);
    await runBatch(producer, 12);
    const callsToOpen = claudeCalls();
    await first.worker.pause(); // from now on the second worker takes the jobs
    const second = await worker(config, clock);
    const secondsBatch = await runBatch(producer, 12);
    const callsWhileOpen = claudeCalls() - callsToOpen;
    await first.worker.resume();

    clock.advance(HALF_OPEN_MS);
    const probed = await runBatch(producer, 16);
    const probesWhileDown = claudeCalls() - callsToOpen;

    pipe.sim.admin.clearFaults();
    clock.advance(HALF_OPEN_MS);
    const healed = await runBatch(producer, 16);
    await second.worker.pause(); // the first worker alone, with its own breaker still open
    const firstAlone = await runBatch(producer, 8);

    expect(callsToOpen).toBeGreaterThanOrEqual(3);
    // The second worker's own breaker never saw a failure, yet it never called the dead model.
    expect(second.breakers.get(CLAUDE).view().consecutiveFailures).toBe(0);
    expect(callsWhileOpen).toBe(0);
    expect(secondsBatch.every((r) => r.modelId === LLAMA)).toBe(true);
    // Two workers with jobs at the half-open moment: one probe between them, which failed.
    expect(probesWhileDown).toBe(1);
    expect(
      probed.filter((r) => r.attempts.some((a) => a.modelId === CLAUDE && a.outcome === 'unavailable')),
    ).toHaveLength(1);
    // Once the model is back, one probe closes the breaker for both workers.
    expect(healed.some((r) => r.modelId === CLAUDE)).toBe(true);
    expect(firstAlone.every((r) => r.modelId === CLAUDE)).toBe(true);
    expect(first.breakers.get(CLAUDE).view().state).toBe('closed');
  });
});
