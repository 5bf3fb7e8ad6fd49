import { describe, expect, it } from 'vitest';
import type { ModelStatsView } from '../../src/api/routes/models.js';
import { buildApi } from '../../src/api/server.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import type { ModelFleetState } from '../../src/resilience/fleet-view.js';
import { usePipeline } from '../helpers/pipeline.js';
import { parseExposition, promtoolProblems, sampleSum } from '../helpers/prometheus-text.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
// Llama 3.1 70B is served in us-east-1 through its `us.` profile only.
const LLAMA = 'us.meta.llama3-1-70b-instruct-v1:0';
/** The catalog lists it by its base id; its stats add up what every id of it served. */
const LLAMA_BASE = 'meta.llama3-1-70b-instruct-v1:0';
const JOBS = 8;

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
      policy: { retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 3 } },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, busyBackoffMs: 50 },
      stats: { flushMs: 50 },
    },
  });
}

interface ModelEntry {
  id: string;
  fleet: ModelFleetState[];
  stats: { '1m': ModelStatsView; '5m': ModelStatsView };
}

describe('GET /v1/models', () => {
  it("shows what the fleet did with each model in the last 1 and 5 minutes, from the workers' windows", async () => {
    const config = testConfig();
    const api = pipe.track(await buildApi({ config }));
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const worker = await startWorker({ config });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    const models = async () =>
      (await api.app.inject({ method: 'GET', url: '/v1/models' })).json() as ModelEntry[];
    const find = (all: ModelEntry[], id: string) => all.find((m) => m.id === id)!;

    const quiet = await models();
    await producer.enqueueBatch(
      Array.from({ length: JOBS }, (_, i) => ({
        id: `j${i}`,
        task: 'generate' as const,
        messages: [{ role: 'user' as const, content: `Question ${i}` }],
      })),
      { batchId: 'b1' },
    );
    await producer.waitForBatch('b1', { pollMs: 50 });
    // Workers write their counts every stats.flushMs: read until the last job's are in.
    await expect
      .poll(async () => find(await models(), LLAMA_BASE).stats['1m'].ok, { timeout: 15_000 })
      .toBe(JOBS);
    const busy = await models();
    const claude = find(busy, CLAUDE);
    const llama = find(busy, LLAMA_BASE);

    expect(find(quiet, CLAUDE).stats['1m']).toMatchObject({ calls: 0, latencyMs: { p50: null, p95: null } });
    expect(claude.fleet[0]?.breaker.state).toBe('open');
    // Every job left Claude once: after a failed call, or refused at the open breaker (a job
    // woken back to the head of its chain while it waits for Llama's slot may be refused again).
    expect(claude.stats['1m'].fallbacksOut).toEqual({ total: JOBS, to: { [LLAMA]: JOBS } });
    expect(claude.stats['1m'].calls).toBeGreaterThanOrEqual(3);
    expect(claude.stats['1m'].errors).toEqual({ unavailable: claude.stats['1m'].calls });
    expect(claude.stats['1m'].calls + claude.stats['1m'].refused.circuitOpen).toBeGreaterThanOrEqual(JOBS);
    expect(claude.stats['1m'].ok).toBe(0);
    expect(llama.stats['1m']).toMatchObject({ calls: JOBS, ok: JOBS, throttles: 0, errors: {} });
    expect(llama.stats['1m'].latencyMs.count).toBe(JOBS);
    expect(llama.stats['1m'].latencyMs.p50).toBeGreaterThan(0);
    expect(llama.stats['1m'].latencyMs.p95).toBeGreaterThanOrEqual(llama.stats['1m'].latencyMs.p50!);
    expect(llama.stats['5m']).toEqual(llama.stats['1m']);
  });

  it("exports the fleet's windows on the API's /metrics", async () => {
    const config = testConfig();
    const api = pipe.track(await buildApi({ config }));
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const worker = await startWorker({ config });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    const scrape = async () => {
      const text = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
      const problems = promtoolProblems(text)?.filter((p) => !/_nodejs_active_\w+_total non-counter/.test(p));
      if (problems) expect(problems).toEqual([]);
      return parseExposition(text);
    };

    await producer.enqueueBatch(
      Array.from({ length: JOBS }, (_, i) => ({
        id: `j${i}`,
        task: 'generate' as const,
        messages: [{ role: 'user' as const, content: `Question ${i}` }],
      })),
      { batchId: 'b1' },
    );
    await producer.waitForBatch('b1', { pollMs: 50 });
    // The jobs gauge counts whole seconds only: read until the last job's second is over.
    await expect
      .poll(
        async () =>
          sampleSum(await scrape(), 'bedrock_jobs_fleet_window_jobs', { status: 'completed', window: '5m' }),
        { timeout: 15_000 },
      )
      .toBe(JOBS);
    const metrics = await scrape();

    expect(
      sampleSum(metrics, 'bedrock_jobs_fleet_window_fallbacks', { from: CLAUDE, to: LLAMA, window: '1m' }),
    ).toBe(JOBS);
    expect(
      sampleSum(metrics, 'bedrock_jobs_fleet_window_calls', { model: LLAMA, outcome: 'ok', window: '1m' }),
    ).toBe(JOBS);
    expect(
      sampleSum(metrics, 'bedrock_jobs_fleet_window_calls', {
        model: CLAUDE,
        outcome: 'unavailable',
        window: '1m',
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sampleSum(metrics, 'bedrock_jobs_fleet_window_latency_seconds', {
        model: LLAMA,
        percentile: '95',
        window: '5m',
      }),
    ).toBeGreaterThan(0);
    expect(sampleSum(metrics, 'bedrock_jobs_fleet_window_jobs', { status: 'failed', window: '1m' })).toBe(0);
  });
});
