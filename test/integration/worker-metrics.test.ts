import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import type { ResultRecord } from '../../src/results/record.js';
import { usePipeline } from '../helpers/pipeline.js';
import {
  type MetricFamily,
  parseExposition,
  promtoolProblems,
  sampleSum,
} from '../helpers/prometheus-text.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
// Llama 3.1 70B is served in us-east-1 through its `us.` profile only.
const LLAMA = 'us.meta.llama3-1-70b-instruct-v1:0';
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
      // One call per model per job and no limiter: no job sleeps, so the worker's clock moves
      // only when the test moves it, and the breaker half-opens exactly then.
      policy: {
        retry: { maxAttempts: 1 },
        breaker: { consecutiveFailures: 3, halfOpenAfterMs: HALF_OPEN_MS },
      },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, busyBackoffMs: 50, metricsPort: 0 },
    },
  });
}

interface Response {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** One HTTP request on a connection of its own, closed after the answer (no socket left open). */
function fetchOnce(url: string, method = 'GET'): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * promtool's one complaint that is not ours: prom-client's default process metrics include
 * gauges named `nodejs_active_*_total`.
 */
const PROM_CLIENT_GAUGES_NAMED_TOTAL = /^bedrock_jobs_worker_nodejs_active_\w+_total non-counter metrics/;

/** Scrapes the worker, checks the text as a Prometheus server (and promtool, when installed) would. */
async function scrape(worker: RunningWorker): Promise<Map<string, MetricFamily>> {
  const res = await fetchOnce(worker.metricsUrl!);
  expect(res.status).toBe(200);
  expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parseExposition(res.body);
  const problems = promtoolProblems(res.body)?.filter((p) => !PROM_CLIENT_GAUGES_NAMED_TOTAL.test(p));
  if (problems) expect(problems).toEqual([]);
  return families;
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

describe("a worker's /metrics", () => {
  it('counts fallbacks and shows the breaker open during an outage of the first model, and closed after it', async () => {
    const config = testConfig();
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const worker = await startWorker({ config, clock, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const before = await scrape(worker);
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });

    const during = await runBatch(producer, 12);
    const outage = await scrape(worker);
    pipe.sim.admin.clearFaults();
    clock.advance(HALF_OPEN_MS);
    const healed = await runBatch(producer, 4);
    const after = await runBatch(producer, 4);
    const recovered = await scrape(worker);

    expect(during.every((r) => r.modelId === LLAMA)).toBe(true);
    expect(sampleSum(before, 'bedrock_jobs_fallbacks_total')).toBeUndefined();
    // Every job of the outage left Claude for Llama once: after a failed call or at an open breaker.
    expect(sampleSum(outage, 'bedrock_jobs_fallbacks_total', { from: CLAUDE, to: LLAMA })).toBe(12);
    expect(sampleSum(outage, 'bedrock_jobs_breaker_state', { model: CLAUDE })).toBe(1);
    expect(sampleSum(outage, 'bedrock_jobs_breaker_opens_total', { model: CLAUDE })).toBe(1);
    expect(sampleSum(outage, 'bedrock_jobs_model_breaker_open', { model: CLAUDE })).toBe(1);
    expect(
      sampleSum(outage, 'bedrock_jobs_model_calls_total', { model: CLAUDE, outcome: 'unavailable' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sampleSum(outage, 'bedrock_jobs_model_refusals_total', { model: CLAUDE, reason: 'circuit_open' }),
    ).toBeGreaterThan(0);
    expect(sampleSum(outage, 'bedrock_jobs_model_calls_total', { model: LLAMA, outcome: 'ok' })).toBe(12);
    expect(
      sampleSum(outage, 'bedrock_jobs_model_call_duration_seconds_count', { model: LLAMA, outcome: 'ok' }),
    ).toBe(12);
    expect(sampleSum(outage, 'bedrock_jobs_tokens_total', { model: LLAMA, direction: 'in' })).toBeGreaterThan(
      0,
    );
    expect(
      sampleSum(outage, 'bedrock_jobs_tokens_total', { model: LLAMA, direction: 'out' }),
    ).toBeGreaterThan(0);
    expect(sampleSum(outage, 'bedrock_jobs_cost_usd_total', { model: LLAMA })).toBeCloseTo(
      during.reduce((sum, r) => sum + r.costUsd, 0),
      9,
    );
    expect(
      sampleSum(outage, 'bedrock_jobs_job_duration_seconds_count', { task: 'generate', status: 'completed' }),
    ).toBe(12);
    expect(sampleSum(outage, 'bedrock_jobs_job_queue_wait_seconds_count', { task: 'generate' })).toBe(12);
    expect(sampleSum(outage, 'bedrock_jobs_worker_active_jobs')).toBe(0);

    expect(healed.some((r) => r.modelId === CLAUDE)).toBe(true);
    expect(after.every((r) => r.modelId === CLAUDE)).toBe(true);
    expect(sampleSum(recovered, 'bedrock_jobs_breaker_state', { model: CLAUDE })).toBe(0);
    expect(sampleSum(recovered, 'bedrock_jobs_model_breaker_open', { model: CLAUDE })).toBe(0);
    expect(sampleSum(recovered, 'bedrock_jobs_model_calls_total', { model: CLAUDE, outcome: 'ok' })).toBe(
      [...healed, ...after].filter((r) => r.modelId === CLAUDE).length,
    );
    expect(sampleSum(recovered, 'bedrock_jobs_breaker_opens_total', { model: CLAUDE })).toBe(1);
  });

  it('serves GET /metrics only', async () => {
    const worker = await startWorker({ config: testConfig(), fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const base = worker.metricsUrl!.replace(/\/metrics$/, '');

    const other = await fetchOnce(`${base}/healthz`);
    const post = await fetchOnce(worker.metricsUrl!, 'POST');
    const query = await fetchOnce(`${worker.metricsUrl!}?name[]=x`);

    expect(other.status).toBe(404);
    expect(post.status).toBe(405);
    expect(query.status).toBe(200);
    expect(query.body).toContain('# TYPE bedrock_jobs_model_calls_total counter');
  });

  it('serves no metrics port unless asked', async () => {
    const config = testConfig();
    const worker = await startWorker({
      config: { ...config, worker: { ...config.worker, metricsPort: undefined } },
      fleetRateLimits: false,
    });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });

    expect(worker.metricsUrl).toBeUndefined();
    expect(await worker.metrics.render()).toContain('bedrock_jobs_worker_active_jobs 0');
  });
});
