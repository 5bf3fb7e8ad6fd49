import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { type Config, loadConfig } from '../../src/config.js';
import { BatchClosedError } from '../../src/queue/batch-closed.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import type { BatchCounters } from '../../src/results/record.js';
import { ResultStore } from '../../src/results/store.js';
import { ask, doneEntries, resultFor } from '../helpers/batches.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });

const extra: Redis[] = [];
afterEach(async () => {
  for (const r of extra.splice(0)) await r.quit();
});

function config(): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 2, busyBackoffMs: 50 },
    },
  });
}

function producer(): Producer {
  return pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: config() }));
}

describe('a batch enqueued in several calls', () => {
  it('is not done while open, even with every job finished; sealing it ends it once', async () => {
    const p = producer();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    const worker = await startWorker({ config: config(), fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    let resolved = false;
    let sawAllFinished: () => void = () => {};
    const allFinished = new Promise<void>((resolve) => {
      sawAllFinished = resolve;
    });

    await p.enqueueBatch([ask('o-1'), ask('o-2')], { batchId: 'parts', open: true });
    await p.enqueueBatch([ask('o-3')], { batchId: 'parts', open: true });
    const waiting = p
      .waitForBatch('parts', {
        pollMs: 100,
        onProgress: (c) => c.completed === 3 && sawAllFinished(),
      })
      .then((c) => {
        resolved = true;
        return c;
      });
    await allFinished;
    const beforeSeal = await store.state('parts');
    const doneBeforeSeal = await doneEntries(ctx.redis, ctx.prefix, 'parts');
    const waiterBeforeSeal = resolved;
    const sealed = await p.sealBatch('parts');
    const final = await waiting;
    const resealed = await p.sealBatch('parts');

    expect(beforeSeal).toMatchObject({ total: 3, completed: 3, sealed: false, done: false });
    expect(doneBeforeSeal).toEqual([]);
    expect(waiterBeforeSeal).toBe(false);
    expect(sealed).toMatchObject({ total: 3, completed: 3, sealed: true, done: true });
    expect(final).toEqual({ batchId: 'parts', total: 3, completed: 3, failed: 0 });
    expect(resealed?.finishedAt).toBe(sealed?.finishedAt);
    expect(await doneEntries(ctx.redis, ctx.prefix, 'parts')).toEqual([
      expect.objectContaining({ type: 'done', total: 3, completed: 3, failed: 0 }),
    ]);
  });

  it('ends at its last result when it was sealed first', async () => {
    const p = producer();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });

    await p.enqueueBatch([ask('s-1'), ask('s-2')], { batchId: 'sealed-first', open: true });
    const open = await store.state('sealed-first');
    const sealed = await p.sealBatch('sealed-first');
    await store.save(resultFor('s-1', 'sealed-first', 'completed'));
    const half = await store.state('sealed-first');
    await store.save(resultFor('s-2', 'sealed-first', 'failed'));
    await store.save(resultFor('s-2', 'sealed-first', 'failed'));

    expect(open).toMatchObject({ sealed: false, done: false });
    expect(sealed).toMatchObject({ sealed: true, done: false });
    expect(half).toMatchObject({ completed: 1, done: false });
    expect(await store.state('sealed-first')).toMatchObject({ completed: 1, failed: 1, done: true });
    expect(await doneEntries(ctx.redis, ctx.prefix, 'sealed-first')).toHaveLength(1);
  });

  it('ends exactly once when the seal and the last result race, batch after batch', async () => {
    const p = producer();
    const a = new Redis(ctx.url);
    const b = new Redis(ctx.url);
    extra.push(a, b);
    const saving = new ResultStore(a, { prefix: ctx.prefix });
    const sealing = new ResultStore(b, { prefix: ctx.prefix });
    const batches = Array.from({ length: 40 }, (_, i) => `race-${i}`);

    for (const batchId of batches) {
      await p.enqueueBatch([ask(`${batchId}-job`)], { batchId, open: true });
      await Promise.all([
        saving.save(resultFor(`${batchId}-job`, batchId, 'completed')),
        sealing.seal(batchId),
      ]);
    }

    for (const batchId of batches) {
      expect(await doneEntries(ctx.redis, ctx.prefix, batchId), batchId).toHaveLength(1);
      expect(await saving.state(batchId), batchId).toMatchObject({ done: true, sealed: true });
    }
  });

  it('stays open while a later call adds to it, and seals at that call unless it is open too', async () => {
    const p = producer();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });

    await p.enqueueBatch([ask('r-1')], { batchId: 'regrow' });
    const first = await store.state('regrow');
    await p.enqueueBatch([ask('r-2')], { batchId: 'regrow', open: true });
    const reopened = await store.state('regrow');
    await store.save(resultFor('r-1', 'regrow', 'completed'));
    await store.save(resultFor('r-2', 'regrow', 'completed'));
    const finishedOpen = await store.state('regrow');
    await p.enqueueBatch([ask('r-1'), ask('r-3')], { batchId: 'regrow' });
    const resealed = await store.state('regrow');

    expect(first).toMatchObject({ total: 1, sealed: true, done: false });
    expect(reopened).toMatchObject({ total: 2, sealed: false });
    expect(finishedOpen).toMatchObject({ completed: 2, done: false });
    expect(resealed).toMatchObject({ total: 3, completed: 2, sealed: true, done: false });
  });
});

describe('a done batch', () => {
  it('takes the same jobs again as duplicates but refuses new ones, from the library and over HTTP', async () => {
    const p = producer();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await p.enqueueBatch([ask('d-1')], { batchId: 'finished' });
    await store.save(resultFor('d-1', 'finished', 'completed'));
    const api = pipe.track(await buildApi({ config: config() }));

    const again = await p.enqueueBatch([ask('d-1')], { batchId: 'finished' });
    const refused = await p.enqueueBatch([ask('d-1'), ask('d-2')], { batchId: 'finished' }).catch((e) => e);
    const http = await api.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: { batchId: 'finished', jobs: [ask('d-3')] },
    });
    const status = await api.app.inject({ method: 'GET', url: '/v1/batches/finished' });

    expect(again).toMatchObject({ enqueued: 0, duplicates: 1 });
    expect(refused).toBeInstanceOf(BatchClosedError);
    expect((refused as Error).message).toMatch(/^batch finished is done: it takes no new jobs/);
    expect(http.statusCode).toBe(409);
    expect(http.json()).toEqual({ error: expect.stringMatching(/^batch finished is done/) });
    expect(await store.state('finished')).toMatchObject({ total: 1, completed: 1, done: true });
    expect(status.json()).toMatchObject({ total: 1, completed: 1, sealed: true, done: true });
    expect(await doneEntries(ctx.redis, ctx.prefix, 'finished')).toHaveLength(1);
  });

  it('lets a single-call batch end by itself, as before', async () => {
    const p = producer();
    const worker = await startWorker({ config: config(), fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });

    const { batchId } = await p.enqueueBatch([ask('one-1'), ask('one-2')]);
    const final: BatchCounters = await p.waitForBatch(batchId, { pollMs: 100 });

    expect(final).toEqual({ batchId, total: 2, completed: 2, failed: 0 });
    expect(await doneEntries(ctx.redis, ctx.prefix, batchId)).toHaveLength(1);
  });
});

describe('an NDJSON batch', () => {
  it('stays open after a refused line and is sealed by the request that ends it, with its callback', async () => {
    const c = loadConfig({
      env: {},
      overrides: { redisUrl: ctx.url, prefix: ctx.prefix, callbacks: { secret: 'an-ndjson-secret-0123' } },
    });
    const api = pipe.track(await buildApi({ config: c }));
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    const post = (body: string) =>
      api.app.inject({
        method: 'POST',
        url: '/v1/batches?batchId=streamed&callbackUrl=https%3A%2F%2Fhooks.example.com%2Fdone',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: body,
      });
    const line = (id: string, extra: object = {}) => JSON.stringify({ ...ask(id), ...extra });

    const cut = await post([line('nd-1'), line('nd-2', { params: { temperature: 9 } })].join('\n'));
    await store.save(resultFor('nd-1', 'streamed', 'completed'));
    const afterCut = await store.state('streamed');
    const rest = await post([line('nd-2'), line('nd-3')].join('\n'));
    const afterRest = await store.state('streamed');
    await store.save(resultFor('nd-2', 'streamed', 'completed'));
    await store.save(resultFor('nd-3', 'streamed', 'failed'));

    expect(cut.statusCode).toBe(400);
    expect(afterCut).toMatchObject({ total: 1, completed: 1, sealed: false, done: false });
    expect(rest.statusCode).toBe(202);
    expect(afterRest).toMatchObject({ total: 3, sealed: true, done: false, callback: { status: 'waiting' } });
    expect(await store.state('streamed')).toMatchObject({
      done: true,
      callback: { on: 'done', status: 'pending' },
    });
    expect(await doneEntries(ctx.redis, ctx.prefix, 'streamed')).toHaveLength(1);
  });
});
