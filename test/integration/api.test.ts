import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type Config, DEFAULT_CHAIN, loadConfig } from '../../src/config.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
let sim: ProfileSimulator;
let running: { api?: RunningApi; worker?: RunningWorker } = {};

beforeAll(async () => {
  sim = await startSimulatorWithProfile({ profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0 }) });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await running.worker?.close({ deadlineMs: 5_000 });
  await running.api?.close();
  running = {};
});

function config(): Config {
  return loadConfig({
    env: {},
    overrides: { redisUrl: ctx.url, prefix: ctx.prefix, endpoint: sim.url, apiToken: 'test-token-of-16+' },
  });
}

const auth = { authorization: 'Bearer test-token-of-16+' };
const job = (id: string) => ({ id, task: 'generate', messages: [{ role: 'user', content: 'Hello' }] });

describe('HTTP API', () => {
  it('refuses requests without the bearer token, but serves health', async () => {
    running.api = await buildApi({ config: config() });
    const { app } = running.api;

    const noToken = await app.inject({ method: 'POST', url: '/v1/jobs', payload: job('a') });
    const wrong = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { authorization: 'Bearer nope' },
    });
    const health = await app.inject({ method: 'GET', url: '/healthz' });

    expect(noToken.statusCode).toBe(401);
    expect(noToken.json()).toEqual({ error: 'missing or wrong bearer token' });
    expect(wrong.statusCode).toBe(401);
    expect(health.json()).toEqual({ ok: true, redis: 'up', maxmemoryPolicy: 'noeviction' });
  });

  it('answers bad input with 400 naming the field, and enqueues nothing', async () => {
    running.api = await buildApi({ config: config() });
    const { app } = running.api;

    const bad = await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth,
      payload: { task: 'generate', messages: [{ role: 'user', content: 'x' }], params: { temperature: 3 } },
    });
    const badBatch = await app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: auth,
      payload: { jobs: [job('ok-1'), { task: 'summarize' }] },
    });
    const empty = await app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: auth,
      payload: { jobs: [] },
    });
    const missing = await app.inject({ method: 'GET', url: '/v1/jobs/ok-1', headers: auth });

    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/params\.temperature/);
    expect(badBatch.statusCode).toBe(400);
    expect(badBatch.json().error).toMatch(/jobs\[1\]\.document/);
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatch(/jobs/);
    expect(missing.statusCode).toBe(404);
  });

  it('enqueues a batch, reports progress, and streams its results once a worker ran it', async () => {
    const c = config();
    running.api = await buildApi({ config: c });
    const { app } = running.api;

    const created = await app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: auth,
      payload: { batchId: 'b1', jobs: [job('j1'), job('j2'), job('j3')] },
    });
    const again = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: job('j1') });
    const queued = await app.inject({ method: 'GET', url: '/v1/jobs/j2', headers: auth });
    running.worker = await startWorker({ config: c });
    // The worker may finish all three before a listener could be attached: ask the API instead,
    // until BullMQ has moved the last job out of active too.
    await expect
      .poll(async () => (await app.inject({ method: 'GET', url: '/v1/batches/b1', headers: auth })).json(), {
        timeout: 20_000,
      })
      .toMatchObject({ completed: 3, waiting: 0, active: 0 });
    const batch = await app.inject({ method: 'GET', url: '/v1/batches/b1', headers: auth });
    const result = await app.inject({ method: 'GET', url: '/v1/jobs/j2', headers: auth });
    const lines = await app.inject({ method: 'GET', url: '/v1/batches/b1/results', headers: auth });
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
    const models = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });

    expect(created.statusCode).toBe(202);
    expect(created.json()).toEqual({ batchId: 'b1', enqueued: 3, duplicates: 0 });
    expect(again.json()).toMatchObject({ id: 'j1', status: 'duplicate' });
    expect(queued.json()).toEqual({ id: 'j2', status: 'waiting' });
    expect(batch.json()).toEqual({
      batchId: 'b1',
      total: 3,
      completed: 3,
      failed: 0,
      sealed: true,
      done: true,
      finishedAt: expect.any(String),
      waiting: 0,
      active: 0,
      missing: 0,
      lanes: {
        online: { completed: 3, failed: 0, costUsd: expect.any(Number) },
        offline: { completed: 0, failed: 0, costUsd: 0, onlineCostUsd: 0 },
      },
    });
    expect(result.json()).toMatchObject({
      id: 'j2',
      status: 'completed',
      modelId: DEFAULT_CHAIN[0],
    });
    expect(lines.headers['content-type']).toMatch(/ndjson/);
    expect(
      lines.body
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id)
        .sort(),
    ).toEqual(['j1', 'j2', 'j3']);
    expect(metrics.body).toMatch(/bedrock_jobs_queue_jobs\{state="waiting"\} 0/);
    // Three jobs, and the entry that marks their batch done.
    expect(metrics.body).toMatch(/bedrock_jobs_results_stream_length 4/);
    expect(
      (models.json() as { id: string; inChains: string[] }[]).find(
        (m) => m.id === 'meta.llama3-3-70b-instruct-v1:0',
      )?.inChains,
    ).toEqual(['default']);
  });
});
