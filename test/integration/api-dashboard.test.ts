import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SnapshotBuilder } from '../../src/api/dashboard/snapshot.js';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type Config, loadConfig } from '../../src/config.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { createProducer } from '../../src/queue/producer.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import { resultFor } from '../helpers/batches.js';
import { useRedis } from '../helpers/redis.js';

const TOKEN = 'dashboard-read-token-0123456789';
const ctx = useRedis();
let running: RunningApi | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

function config(): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      api: { tokens: [{ name: 'viewer', scope: 'read', token: TOKEN }] },
    },
  });
}

const auth = { authorization: `Bearer ${TOKEN}` };
const job = (id: string) => ({
  id,
  task: 'generate' as const,
  messages: [{ role: 'user' as const, content: 'Hi' }],
});

/** Opens the event stream and resolves with its first snapshot, leaving the connection open. */
function firstEvent(base: string): Promise<{ snapshot: unknown; close: () => void; status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/ui/stream`, { headers: auth, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        const match = /^data: (.*)$/m.exec(text);
        if (match?.[1])
          resolve({
            snapshot: JSON.parse(match[1]),
            close: () => req.destroy(),
            status: res.statusCode ?? 0,
          });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard routes', () => {
  it('lists recent batches newest first, with their counters, limited and validated', async () => {
    running = await buildApi({ config: config() });
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config: config() });
    try {
      for (const id of ['older', 'middle', 'newest']) {
        await producer.enqueueBatch([job(`${id}-1`), job(`${id}-2`)], { batchId: id });
      }
    } finally {
      await producer.close();
    }
    const get = (url: string) => running!.app.inject({ method: 'GET', url, headers: auth });

    const all = await get('/v1/batches');
    const two = await get('/v1/batches?limit=2');
    const bad = await get('/v1/batches?limit=0');
    const unknown = await get('/v1/batches?offset=3');

    expect(all.json()).toEqual([
      expect.objectContaining({ batchId: 'newest', total: 2, completed: 0, failed: 0 }),
      expect.objectContaining({ batchId: 'middle', total: 2 }),
      expect.objectContaining({ batchId: 'older', total: 2 }),
    ]);
    expect(two.json<{ batchId: string }[]>().map((b) => b.batchId)).toEqual(['newest', 'middle']);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/^query\.limit: must be at least 1/);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatch(/^query\.offset: is not a parameter/);
  });

  it('gives each batch row its lane and its cost per lane, read from the batch and its lane record', async () => {
    const c = config();
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c });
    try {
      await producer.enqueueBatch([job('p-0'), job('p-1')], { batchId: 'plain' });
      await producer.enqueueBatch([job('n-0'), job('n-1'), job('n-2')], {
        batchId: 'nightly',
        lane: 'offline',
      });
      await producer.enqueueBatch([job('a-0')], { batchId: 'later', lane: 'auto' });
    } finally {
      await producer.close();
    }
    // Results as the worker (online) and the coordinator (offline, at the batch price) write them.
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix, ttlSeconds: 3600 });
    await store.save({ ...resultFor('p-0', 'plain', 'completed'), lane: 'online', costUsd: 0.002 });
    await store.save({
      ...resultFor('n-0', 'nightly', 'completed'),
      lane: 'offline',
      costUsd: 0.001,
      onlineCostUsd: 0.002,
    });
    await store.save({
      ...resultFor('n-1', 'nightly', 'completed'),
      lane: 'offline',
      costUsd: 0.0015,
      onlineCostUsd: 0.003,
    });
    // A record Bedrock answered with an error goes online.
    await store.save({ ...resultFor('n-2', 'nightly', 'completed'), lane: 'online', costUsd: 0.004 });
    const builder = new SnapshotBuilder({
      redis: ctx.redis,
      keys: keysFor(ctx.prefix),
      store,
      config: c,
      catalog: ModelCatalog.of(c),
    });

    const { batches } = await builder.build();
    const row = (id: string) => batches.find((b) => b.batchId === id);

    expect(batches.map((b) => b.batchId)).toEqual(['later', 'nightly', 'plain']);
    expect(row('plain')).toMatchObject({
      lane: 'online',
      lanes: {
        online: { completed: 1, failed: 0, costUsd: 0.002 },
        offline: { completed: 0, failed: 0, costUsd: 0, onlineCostUsd: 0 },
      },
    });
    expect(row('plain')?.costUsd).toBeCloseTo(0.002, 9);
    expect(row('nightly')).toMatchObject({
      lane: 'offline',
      completed: 3,
      lanes: {
        online: { completed: 1, failed: 0, costUsd: 0.004 },
        offline: { completed: 2, failed: 0, costUsd: 0.0025, onlineCostUsd: 0.005 },
      },
    });
    expect(row('nightly')?.costUsd).toBeCloseTo(0.0065, 9);
    expect(row('later')).toMatchObject({
      lane: 'auto',
      lanes: { online: { completed: 0, costUsd: 0 }, offline: { completed: 0, costUsd: 0 } },
    });
  });

  it('serves the page and uPlot to anyone, and the event stream only with a token', async () => {
    running = await buildApi({ config: config() });
    const { app } = running;

    const page = await app.inject({ method: 'GET', url: '/ui' });
    const uplot = await app.inject({ method: 'GET', url: '/ui/vendor/uplot.js' });
    const stream = await app.inject({ method: 'GET', url: '/ui/stream' });

    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('id="login-form"');
    expect(uplot.statusCode).toBe(200);
    expect(uplot.body).toContain('uPlot');
    expect(stream.statusCode).toBe(401);
  });

  it('streams snapshots of models, series and batches, and closes with open streams', async () => {
    const c = config();
    running = await buildApi({ config: c });
    await running.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(running.app.server.address() as AddressInfo).port}`;
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c });
    await producer.enqueueBatch([job('s-1')], { batchId: 'streamed' });
    await producer.close();

    const first = await firstEvent(base);
    const second = await firstEvent(base);
    first.close();

    expect(first.status).toBe(200);
    expect(first.snapshot).toMatchObject({
      models: expect.arrayContaining([expect.objectContaining({ breaker: { state: 'closed' } })]),
      series: expect.any(Array),
      batches: [expect.objectContaining({ batchId: 'streamed', total: 1, completed: 0, etaSeconds: null })],
    });
    expect((first.snapshot as { series: unknown[] }).series).toHaveLength(120);
    // The second browser is still connected: closing the API must not wait for it to leave.
    await running.close();
    second.close();
  });
});
