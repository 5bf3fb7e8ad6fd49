import { Job, Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import type { WorkerOptions } from '../../src/queue/worker-options.js';
import type { ResultRecord } from '../../src/results/record.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-70b-instruct-v1:0';
const TITAN = 'amazon.titan-text-express-v1';

const ctx = useRedis();
const pipe = usePipeline();

function testConfig(overrides: ConfigInput = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      chains: { default: ['claude-3-haiku', 'llama3-70b', 'titan-express'] },
      // Quotas far above what the tests send: the fleet limiter never moves a job on here.
      models: Object.fromEntries([CLAUDE, LLAMA, TITAN].map((id) => [id, { rpm: 1e6, tpm: 1e9 }])),
      policy: {
        retry: { maxAttempts: 2, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 },
        breaker: { consecutiveFailures: 3, halfOpenAfterMs: 200 },
      },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 3, busyBackoffMs: 50 },
      ...overrides,
    },
  });
}

async function start(
  config: Config,
  options: Omit<WorkerOptions, 'config'> = {},
): Promise<{ producer: Producer; worker: RunningWorker }> {
  const producer = pipe.track(createProducer({ redis: ctx.url, prefix: config.prefix, config }));
  const worker = await startWorker({ config, ...options });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  return { producer, worker };
}

async function runBatch(producer: Producer, count: number, batchId: string): Promise<ResultRecord[]> {
  const jobs = Array.from({ length: count }, (_, i) => ({
    id: `${batchId}-${i}`,
    task: 'generate' as const,
    system: 'You are terse.',
    messages: [{ role: 'user' as const, content: `Question ${i}: what is a queue?` }],
  }));
  await producer.enqueueBatch(jobs, { batchId });
  const counters = await producer.waitForBatch(batchId, { pollMs: 200 });
  expect(counters.completed + counters.failed).toBe(count);
  const results = await Promise.all(jobs.map((j) => producer.getResult(j.id)));
  return results.map((r) => r!);
}

describe('fallback chain against the simulator', () => {
  it('completes every job on Llama while Claude is down, recording every attempt', async () => {
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    const { producer } = await start(testConfig());

    const results = await runBatch(producer, 12, 'outage-1');

    for (const r of results) {
      expect(r.status).toBe('completed');
      expect(r.modelId).toBe(LLAMA);
      expect(r.text?.length).toBeGreaterThan(0);
      expect(r.attempts.at(-1)).toMatchObject({ modelId: LLAMA, outcome: 'ok' });
      expect(r.attempts[0]?.modelId).toBe(CLAUDE);
      expect(['unavailable', 'circuit_open']).toContain(r.attempts[0]?.outcome);
      expect(r.usage.inputTokens).toBeGreaterThan(0);
      expect(r.costUsd).toBeGreaterThan(0);
    }
    expect(pipe.sim.admin.stats().models[LLAMA]?.ok).toBe(12);
  });

  it('moves on to Titan when Claude and Llama are both down', async () => {
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    pipe.sim.admin.addFault({ model: LLAMA, outage: true });
    const { producer } = await start(testConfig());

    const results = await runBatch(producer, 8, 'outage-2');

    for (const r of results) {
      expect(r.status).toBe('completed');
      expect(r.modelId).toBe(TITAN);
      expect(r.attempts.map((a) => a.modelId)).toEqual(expect.arrayContaining([CLAUDE, LLAMA, TITAN]));
    }
  });

  it('stops calling a dead model once its breaker opens, and probes it again after the half-open delay', async () => {
    // One call per model per job, so the worker never sleeps: its clock stands still unless
    // the test moves it, and the breaker cannot half-open however slowly the batch runs.
    const config = testConfig({
      policy: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 30_000 } },
    });
    const { halfOpenAfterMs, consecutiveFailures } = config.policy.breaker;
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    const { producer, worker } = await start(config, { clock, fleetRateLimits: false });
    const claudeCalls = (): number => pipe.sim.admin.stats().models[CLAUDE]?.calls ?? 0;

    const during = await runBatch(producer, 40, 'breaker-1');
    const deadCalls = claudeCalls();
    const stateAfterOutage = worker.breakers.get(CLAUDE).view().state;
    pipe.sim.admin.clearFaults();
    clock.advance(halfOpenAfterMs - 1);
    const [early] = await runBatch(producer, 1, 'early');
    const callsBeforeDelay = claudeCalls();
    clock.advance(1);
    const [probe] = await runBatch(producer, 1, 'probe');
    const after = await runBatch(producer, 10, 'breaker-2');

    expect(during.every((r) => r.modelId === LLAMA)).toBe(true);
    // The calls already in flight when it opened (at most one per other job slot) still land.
    expect(deadCalls).toBeGreaterThanOrEqual(consecutiveFailures);
    expect(deadCalls).toBeLessThanOrEqual(consecutiveFailures + config.worker.concurrency - 1);
    expect(stateAfterOutage).toBe('open');
    expect(early?.modelId).toBe(LLAMA);
    expect(early?.attempts[0]).toMatchObject({ modelId: CLAUDE, outcome: 'circuit_open' });
    expect(callsBeforeDelay).toBe(deadCalls);
    expect(probe?.modelId).toBe(CLAUDE);
    expect(after.every((r) => r.modelId === CLAUDE)).toBe(true);
    expect(worker.breakers.get(CLAUDE).view().state).toBe('closed');
  });

  it('fails an invalid job at once, without retries, naming the problem', async () => {
    const { producer, worker } = await start(testConfig());
    // Another service wrote a malformed payload straight into the queue, past the producer.
    const raw = new Queue('jobs', { connection: { url: ctx.url }, prefix: ctx.prefix });
    const failed = new Promise<void>((resolve) =>
      worker.worker.on('failed', (job) => job?.id === 'bad-1' && resolve()),
    );

    await raw.add(
      'job',
      { id: 'bad-1', task: 'generate', enqueuedAt: new Date().toISOString() },
      { jobId: 'bad-1', attempts: 5 },
    );
    await failed;
    const result = await producer.getResult('bad-1');
    const job = await Job.fromId(raw, 'bad-1');
    await raw.close();

    expect(result?.status).toBe('failed');
    expect(result?.error).toMatch(/messages/);
    expect(job?.attemptsMade).toBe(1);
    expect(pipe.sim.admin.stats().total.calls).toBe(0);
  });
});
