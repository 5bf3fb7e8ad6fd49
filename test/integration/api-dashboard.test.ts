import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
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
