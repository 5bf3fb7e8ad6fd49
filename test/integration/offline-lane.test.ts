import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import type { ConfigInput } from '../../src/config.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { batchCostUsd } from '../../src/models/info.js';
import { offlineView } from '../../src/offline/view.js';
import { batchStatus } from '../../src/queue/batch-status.js';
import { keysFor } from '../../src/redis/keys.js';
import { listInvocationJobs, startOfflineLane } from '../helpers/offline.js';
import { usePipeline } from '../helpers/pipeline.js';
import { parseExposition, sampleSum } from '../helpers/prometheus-text.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
// Invocation jobs move through their statuses at once: each wait is one turn of the event loop.
const pipe = usePipeline({
  models: { '*': { rpm: 1e9, tpm: 1e12 } },
  batch: { submittedMs: 0, validatingMs: 0, scheduledMs: 0, perRecordMs: 0 },
});

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const NOVA = 'amazon.nova-lite-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const catalog = new ModelCatalog();

/** A contract-like document, different for each job. */
const contract = (i: number) =>
  `Contract ${i}. The supplier delivers ${i + 1} units to the buyer by 1 March 2027. The buyer pays ${100 + i} EUR within 30 days of delivery. Either party may end this contract with three months' notice.`;

const startLane = (overrides: ConfigInput = {}) => startOfflineLane(ctx, pipe, overrides);

describe('the offline lane', () => {
  it('runs 1,000 summaries as one invocation job per model and writes each result once, offline, at the batch price', async () => {
    const lane = await startLane();
    const jobs = Array.from({ length: 1_000 }, (_, i) => ({
      id: `doc-${i}`,
      task: 'summarize' as const,
      document: contract(i),
      models: i % 2 === 0 ? [HAIKU, NOVA] : [NOVA, HAIKU],
    }));

    const enqueued = await lane.producer.enqueueBatch(jobs, { batchId: 'contracts', lane: 'offline' });
    const counters = await lane.producer.waitForBatch('contracts', { pollMs: 200 });
    const invocationJobs = await listInvocationJobs(pipe.sim.url);
    const results = (await lane.store.getMany(jobs.map((j) => j.id))).filter((r) => r !== undefined);
    const finished = await ctx.redis.lrange(keysFor(ctx.prefix).batchResults('contracts'), 0, -1);
    const status = await batchStatus(ctx.redis, keysFor(ctx.prefix), lane.store, 'contracts');
    // The batch ends with its last result; the lane records its counts just after.
    await expect
      .poll(async () => (await offlineView(ctx.redis, keysFor(ctx.prefix), 'contracts'))?.done)
      .toBe(true);
    const view = await offlineView(ctx.redis, keysFor(ctx.prefix), 'contracts');

    expect(enqueued).toMatchObject({ enqueued: 1_000, duplicates: 0 });
    expect(counters).toEqual({ batchId: 'contracts', total: 1_000, completed: 1_000, failed: 0 });
    expect(invocationJobs.map((j) => j.modelId).sort()).toEqual([NOVA, HAIKU].sort());
    expect(invocationJobs.every((j) => j.status === 'Completed')).toBe(true);
    expect(pipe.sim.admin.stats().batch.models).toMatchObject({
      [HAIKU]: { jobsCreated: 1, recordsSucceeded: 500 },
      [NOVA]: { jobsCreated: 1, recordsSucceeded: 500 },
    });
    expect(results).toHaveLength(1_000);
    expect(new Set(finished).size).toBe(1_000);
    expect(finished).toHaveLength(1_000);
    for (const r of results) {
      const model = catalog.resolve(r.modelId ?? '')!;
      expect(r).toMatchObject({ status: 'completed', lane: 'offline' });
      expect(r.modelId).toBe(Number(r.id.slice(4)) % 2 === 0 ? HAIKU : NOVA);
      expect(r.text?.length).toBeGreaterThan(0);
      expect(r.usage.inputTokens).toBeGreaterThan(0);
      expect(r.costUsd).toBeCloseTo(batchCostUsd(model.info, r.usage), 12);
      expect(r.onlineCostUsd).toBeCloseTo(r.costUsd * 2, 12);
    }
    // No on-demand call was made: every answer came from the invocation jobs.
    expect(pipe.sim.admin.stats().total.ok).toBe(0);
    expect(status?.lanes.offline).toMatchObject({ completed: 1_000, failed: 0 });
    expect(status?.lanes.offline.costUsd).toBeCloseTo(
      results.reduce((n, r) => n + r.costUsd, 0),
      6,
    );
    expect(status?.lanes.offline.onlineCostUsd).toBeCloseTo(2 * (status?.lanes.offline.costUsd ?? 0), 6);
    expect(view).toMatchObject({ lane: 'offline', planned: true });
    expect(view?.invocationJobs.map((j) => [j.modelId, j.records, j.offline, j.online])).toEqual(
      expect.arrayContaining([
        [HAIKU, 500, 500, 0],
        [NOVA, 500, 500, 0],
      ]),
    );
    // The worker's metrics: cost per lane, and what the offline part would have cost online.
    const metrics = parseExposition(await lane.worker.metrics.render());
    const offlineCost = sampleSum(metrics, 'bedrock_jobs_cost_usd_total', { lane: 'offline' });
    expect(offlineCost).toBeCloseTo(status?.lanes.offline.costUsd ?? -1, 6);
    expect(sampleSum(metrics, 'bedrock_jobs_offline_online_equivalent_usd_total')).toBeCloseTo(
      2 * (offlineCost ?? 0),
      6,
    );
    expect(sampleSum(metrics, 'bedrock_jobs_offline_results_total', { model: HAIKU })).toBe(500);
  }, 120_000);

  it('sends record errors and the jobs of a failed invocation job online, down their chains', async () => {
    const lane = await startLane();
    // Haiku's job answers five records with an error; Nova's job fails, and Nova is down online too.
    pipe.sim.admin.addFault({ model: HAIKU, batch: { recordIdPattern: '^R000000000[0-4]$' } });
    pipe.sim.admin.addFault({ model: NOVA, batch: { fail: { message: 'Internal server error.' } } });
    pipe.sim.admin.addFault({ model: NOVA, outage: true });
    const jobs = Array.from({ length: 300 }, (_, i) => ({
      id: `doc-${String(i).padStart(3, '0')}`,
      task: 'summarize' as const,
      document: contract(i),
      models: i < 150 ? [HAIKU, NOVA] : [NOVA, HAIKU],
    }));

    await lane.producer.enqueueBatch(jobs, { batchId: 'faulty', lane: 'offline' });
    const counters = await lane.producer.waitForBatch('faulty', { pollMs: 200 });
    const results = (await lane.store.getMany(jobs.map((j) => j.id))).filter((r) => r !== undefined);
    const status = await batchStatus(ctx.redis, keysFor(ctx.prefix), lane.store, 'faulty');
    // The batch ends with its last result; the lane records its counts just after.
    await expect
      .poll(async () => (await offlineView(ctx.redis, keysFor(ctx.prefix), 'faulty'))?.done)
      .toBe(true);
    const view = await offlineView(ctx.redis, keysFor(ctx.prefix), 'faulty');
    const byLane = (l: string, model: string) => results.filter((r) => r.lane === l && r.modelId === model);

    expect(counters).toEqual({ batchId: 'faulty', total: 300, completed: 300, failed: 0 });
    expect(results).toHaveLength(300);
    expect(byLane('offline', HAIKU)).toHaveLength(145);
    // The five record errors ran online on their chain's first model.
    expect(byLane('online', HAIKU).filter((r) => r.attempts[0]?.modelId === HAIKU)).toHaveLength(5);
    // Nova's failed job: its 150 calls ran online, and Nova being down, fell back to Haiku.
    const fellBack = results.filter((r) => r.attempts[0]?.modelId === NOVA);
    expect(fellBack).toHaveLength(150);
    for (const r of fellBack) {
      expect(r).toMatchObject({ lane: 'online', status: 'completed', modelId: HAIKU });
      expect(r.attempts.some((a) => a.outcome === 'unavailable' || a.outcome === 'circuit_open')).toBe(true);
    }
    expect(status?.lanes).toMatchObject({
      online: { completed: 155, failed: 0 },
      offline: { completed: 145, failed: 0 },
    });
    expect(view?.invocationJobs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ modelId: HAIKU, status: 'Completed', offline: 145, online: 5 }),
        expect.objectContaining({ modelId: NOVA, status: 'Failed', offline: 0, online: 150 }),
      ]),
    );
    expect(pipe.sim.admin.stats().batch.models[NOVA]).toMatchObject({
      jobsCreated: 1,
      jobsEnded: { Failed: 1 },
    });
  }, 120_000);

  it('creates nothing twice and writes nothing twice when a crash lost the record of a created job', async () => {
    const lane = await startLane();
    const keys = keysFor(ctx.prefix);
    const jobs = Array.from({ length: 120 }, (_, i) => ({
      id: `doc-${i}`,
      task: 'summarize' as const,
      document: contract(i),
      models: [HAIKU],
    }));
    await lane.producer.enqueueBatch(jobs, { batchId: 'replayed', lane: 'offline' });
    await lane.producer.waitForBatch('replayed', { pollMs: 200 });
    await expect.poll(async () => (await offlineView(ctx.redis, keys, 'replayed'))?.done).toBe(true);
    const streamed = await ctx.redis.xlen(keys.results);

    // As if the coordinator had died after CreateModelInvocationJob, before it saved the job's ARN,
    // and before it read anything back: the next run creates with the same token and reads again.
    const part = JSON.parse((await ctx.redis.hget(keys.offline('replayed'), 'part:0'))!) as Record<
      string,
      unknown
    >;
    const { jobArn: firstArn, status: _s, submittedAt: _t, ...lost } = part;
    await ctx.redis.hset(
      keys.offline('replayed'),
      'part:0',
      JSON.stringify({ ...lost, collected: false, offline: 0 }),
    );
    await ctx.redis.hdel(keys.offline('replayed'), 'doneAt');
    await lane.producer.sealBatch('replayed');
    await expect
      .poll(async () => (await offlineView(ctx.redis, keys, 'replayed'))?.done, { timeout: 30_000 })
      .toBe(true);
    const view = await offlineView(ctx.redis, keys, 'replayed');

    expect(view?.invocationJobs[0]).toMatchObject({ jobArn: firstArn, status: 'Completed' });
    expect(pipe.sim.admin.stats().batch.models[HAIKU]).toMatchObject({
      jobsCreated: 1,
      recordsProcessed: 120,
    });
    expect(await ctx.redis.xlen(keys.results)).toBe(streamed);
    expect(await ctx.redis.llen(keys.batchResults('replayed'))).toBe(120);
    expect(await lane.producer.getBatch('replayed')).toEqual({
      batchId: 'replayed',
      total: 120,
      completed: 120,
      failed: 0,
    });
  }, 60_000);

  it('plans each job on the first model of its chain that takes batch inference and the preflight found usable', async () => {
    // Nova is not enabled for the account: the worker's preflight finds it before the plan.
    pipe.sim.admin.setModel(NOVA, { enabled: false });
    const lane = await startLane({ chains: { default: [NOVA, HAIKU] }, worker: { preflight: true } });
    const jobs = [
      // Titan Text takes no invocation jobs: Haiku, next in the chain, goes offline.
      ...Array.from({ length: 100 }, (_, i) => ({
        id: `titan-${i}`,
        task: 'summarize' as const,
        document: contract(i),
        models: [TITAN, HAIKU],
      })),
      // The default chain: Nova first, skipped as the preflight found it unusable.
      ...Array.from({ length: 100 }, (_, i) => ({
        id: `chain-${i}`,
        task: 'summarize' as const,
        document: contract(i),
      })),
      // No model of the chain takes invocation jobs: online at once, on Titan.
      ...Array.from({ length: 3 }, (_, i) => ({
        id: `only-${i}`,
        task: 'summarize' as const,
        document: contract(i),
        models: [TITAN],
      })),
    ];

    await lane.producer.enqueueBatch(jobs, { batchId: 'chosen', lane: 'offline' });
    const counters = await lane.producer.waitForBatch('chosen', { pollMs: 200 });
    const results = await lane.store.getMany(jobs.map((j) => j.id));
    const stats = pipe.sim.admin.stats();

    expect(counters).toMatchObject({ total: 203, completed: 203, failed: 0 });
    expect(stats.batch.models[HAIKU]).toMatchObject({ jobsCreated: 1, recordsSucceeded: 200 });
    expect(stats.batch.total.jobsCreated).toBe(1);
    expect(results.slice(0, 200).every((r) => r?.lane === 'offline' && r.modelId === HAIKU)).toBe(true);
    expect(results.slice(200).every((r) => r?.lane === 'online' && r.modelId === TITAN)).toBe(true);
  }, 60_000);

  it('sends an auto batch below the minimum online, and it completes there', async () => {
    const lane = await startLane();
    const jobs = Array.from({ length: 5 }, (_, i) => ({
      id: `small-${i}`,
      task: 'summarize' as const,
      document: contract(i),
    }));

    await lane.producer.enqueueBatch(jobs, { batchId: 'small', lane: 'auto' });
    const counters = await lane.producer.waitForBatch('small', { pollMs: 200 });
    const results = await lane.store.getMany(jobs.map((j) => j.id));

    expect(counters).toMatchObject({ total: 5, completed: 5 });
    expect(results.every((r) => r?.lane === 'online')).toBe(true);
    expect(pipe.sim.admin.stats().batch.total.jobsCreated).toBe(0);
    expect(pipe.sim.admin.stats().total.ok).toBe(5);
  }, 60_000);

  it('runs an auto batch whose deadline is nearer than an invocation job may take online', async () => {
    const lane = await startLane();
    const jobs = Array.from({ length: 120 }, (_, i) => ({
      id: `soon-${i}`,
      task: 'summarize' as const,
      document: contract(i),
    }));
    const deadline = new Date(Date.now() + 60 * 60 * 1000).toISOString();

    await lane.producer.enqueueBatch(jobs, { batchId: 'soon', lane: 'auto', deadline });
    const counters = await lane.producer.waitForBatch('soon', { pollMs: 200 });

    expect(counters).toMatchObject({ total: 120, completed: 120 });
    expect((await lane.store.getMany(jobs.map((j) => j.id))).every((r) => r?.lane === 'online')).toBe(true);
    expect(pipe.sim.admin.stats().batch.total.jobsCreated).toBe(0);
  }, 60_000);

  it('takes an offline batch over HTTP (JSON and NDJSON) and shows its invocation jobs and lanes', async () => {
    const lane = await startLane({ apiToken: 'test-token-of-16+' });
    const api = await buildApi({ config: lane.config });
    pipe.track({ close: () => api.close() });
    const headers = { authorization: 'Bearer test-token-of-16+' };
    const docs = (prefix: string) =>
      Array.from({ length: 100 }, (_, i) => ({
        id: `${prefix}-${i}`,
        task: 'summarize',
        document: contract(i),
        models: [HAIKU],
      }));

    const json = await api.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers,
      payload: { batchId: 'http-json', lane: 'offline', jobs: docs('j') },
    });
    const ndjson = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=http-ndjson&lane=offline',
      headers: { ...headers, 'content-type': 'application/x-ndjson' },
      payload: docs('n')
        .map((d) => JSON.stringify(d))
        .join('\n'),
    });
    const badDeadline = await api.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers,
      payload: { lane: 'online', deadline: '2027-01-01T00:00:00Z', jobs: docs('x').slice(0, 1) },
    });
    for (const id of ['http-json', 'http-ndjson']) await lane.producer.waitForBatch(id, { pollMs: 200 });
    // The batch ends with its last result; the lane records its counts just after.
    await expect
      .poll(async () => (await offlineView(ctx.redis, keysFor(ctx.prefix), 'http-ndjson'))?.done)
      .toBe(true);
    const view = await api.app.inject({ method: 'GET', url: '/v1/batches/http-ndjson', headers });

    expect(json.statusCode).toBe(202);
    expect(ndjson.statusCode).toBe(202);
    expect(badDeadline.statusCode).toBe(400);
    expect(badDeadline.json().error).toMatch(/^deadline: is for lane "offline" or "auto"/);
    expect(view.json()).toMatchObject({
      total: 100,
      completed: 100,
      lanes: { offline: { completed: 100 }, online: { completed: 0 } },
      offline: { lane: 'offline', invocationJobs: [{ modelId: HAIKU, records: 100, offline: 100 }] },
    });
    expect(pipe.sim.admin.stats().batch.models[HAIKU]?.jobsCreated).toBe(2);
  }, 60_000);
});
