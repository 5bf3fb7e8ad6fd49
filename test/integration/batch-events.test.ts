import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { BatchEventStream } from '../../src/api/batch-events.js';
import { ResultsTail } from '../../src/api/results-tail.js';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { compareStreamIds } from '../../src/api/sse.js';
import { type Config, loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import type { BatchState } from '../../src/results/batch-state.js';
import { ResultStore } from '../../src/results/store.js';
import { ask, resultFor } from '../helpers/batches.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';
import { openEvents, type SseClient, type SseEvent } from '../helpers/sse-client.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const TOKEN = 'events-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

function config(api: { eventsProgressMs?: number; eventsHeartbeatMs?: number } = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      apiToken: TOKEN,
      policy: { retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 } },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 2, busyBackoffMs: 50 },
      api: { eventsProgressMs: 50, eventsHeartbeatMs: 60_000, ...api },
    },
  });
}

/** An API listening on 127.0.0.1, a producer, and the URL of a batch's events. */
async function listening(c: Config = config()) {
  const api: RunningApi = pipe.track(await buildApi({ config: c }));
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = api.app.server.address() as AddressInfo;
  const producer: Producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
  const events = (batchId: string) =>
    `http://127.0.0.1:${port}/v1/batches/${encodeURIComponent(batchId)}/events`;
  return { api, producer, events };
}

/** Opens a stream that is dropped after the test. */
async function follow(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const client = await openEvents(url, { ...auth, ...headers });
  pipe.track({ close: async () => client.close() });
  return client;
}

const ids = (events: readonly SseEvent[]) => events.flatMap((e) => (e.id ? [e.id] : []));
/** Event ids never go back: a client resuming from any of them misses nothing after it. */
const nonDecreasing = (list: readonly string[]) =>
  list.every((id, i) => i === 0 || compareStreamIds(list[i - 1]!, id) <= 0);

describe('GET /v1/batches/:id/events', () => {
  it('sends the counters, progress, each failed job and done, then ends', async () => {
    pipe.sim.admin.setModel(CLAUDE, { enabled: false });
    const { producer, events } = await listening();
    await producer.enqueueBatch(
      [
        { ...ask('ok-1'), models: ['titan-express'] },
        { ...ask('ok-2'), models: ['titan-express'] },
        { ...ask('bad-1', 'A private question'), models: ['claude-3-haiku'] },
      ],
      { batchId: 'watched', open: true },
    );

    const client = await follow(events('watched'));
    const first = await client.next(() => true);
    const worker = await startWorker({ config: config(), fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const failed = await client.next((e) => e.event === 'job.failed');
    const finished = await client.next(
      (e) => e.event === 'progress' && e.data.completed === 2 && e.data.failed === 1,
    );
    await producer.sealBatch('watched');
    const done = await client.next((e) => e.event === 'done');
    await client.ended;

    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(first).toMatchObject({
      event: 'progress',
      id: expect.stringMatching(/^\d+-\d+$/),
      data: { batchId: 'watched', total: 3, completed: 0, failed: 0, sealed: false },
    });
    expect(failed.data).toEqual({
      batchId: 'watched',
      id: 'bad-1',
      kind: 'access_denied',
      error: expect.stringMatching(/access_denied/),
    });
    expect(finished.data).toMatchObject({ total: 3, sealed: false });
    expect(done.data).toEqual({
      batchId: 'watched',
      total: 3,
      completed: 2,
      failed: 1,
      finishedAt: expect.any(String),
    });
    expect(client.events.at(-1)).toBe(done);
    expect(client.events.filter((e) => e.event === 'job.failed')).toHaveLength(1);
    expect(JSON.stringify(client.events)).not.toContain('private question');
    expect(nonDecreasing(ids(client.events))).toBe(true);
  });

  it('replays to a reconnecting client only what it missed, by Last-Event-ID', async () => {
    const { producer, events } = await listening();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await producer.enqueueBatch([ask('r-1'), ask('r-2'), ask('r-3'), ask('r-4')], { batchId: 'resumed' });

    const before = await follow(events('resumed'));
    const seen = await before.next(() => true);
    before.close();
    await store.save(resultFor('r-1', 'resumed', 'failed'));
    await store.save(resultFor('r-2', 'resumed', 'completed'));
    await store.save(resultFor('r-3', 'resumed', 'failed'));
    const again = await follow(events('resumed'), { 'last-event-id': seen.id! });
    const missed = await again.next((e) => e.event === 'progress');
    const firstFailure = again.events.find((e) => e.event === 'job.failed');
    const late = await follow(events('resumed'), { 'last-event-id': firstFailure!.id! });
    const lateProgress = await late.next((e) => e.event === 'progress');
    await store.save(resultFor('r-4', 'resumed', 'completed'));
    const done = await again.next((e) => e.event === 'done');
    await late.next((e) => e.event === 'done');
    const afterDone = await follow(events('resumed'), { 'last-event-id': done.id! });

    expect(again.events.slice(0, 3).map((e) => [e.event, e.data.id])).toEqual([
      ['job.failed', 'r-1'],
      ['job.failed', 'r-3'],
      ['progress', undefined],
    ]);
    expect(missed.data).toMatchObject({ total: 4, completed: 1, failed: 2 });
    expect(late.events.filter((e) => e.event === 'job.failed').map((e) => e.data.id)).toEqual(['r-3']);
    expect(lateProgress.data).toMatchObject({ completed: 1, failed: 2 });
    expect(ids(again.events).every((id) => id !== seen.id)).toBe(true);
    expect(done.data).toMatchObject({ total: 4, completed: 2, failed: 2 });
    expect(afterDone.status).toBe(204);
  });

  it('replays a batch reopened by a retry in order to a client resuming from before its first done, its last done last', async () => {
    const { producer, events } = await listening();
    const outage = pipe.sim.admin.addFault({ model: TITAN, outage: true });
    await producer.enqueueBatch(
      [
        { ...ask('re-1'), models: ['titan-express'] },
        { ...ask('re-2'), models: ['titan-express'] },
      ],
      { batchId: 'reopened' },
    );
    const watcher = await follow(events('reopened'));
    const before = await watcher.next(() => true);
    const first = await startWorker({ config: config(), fleetRateLimits: false });
    const firstDone = await watcher.next((e) => e.event === 'done');
    await first.close({ deadlineMs: 5_000 });
    pipe.sim.admin.removeFault(outage);
    await producer.retryFailed('reopened');

    // Reopened and no worker yet: the client catches up and stays, not told the batch is done.
    const resumed = await follow(events('reopened'), { 'last-event-id': before.id! });
    const caughtUp = await resumed.next((e) => e.event === 'progress');
    const second = await startWorker({ config: config(), fleetRateLimits: false });
    pipe.track({ close: () => second.close({ deadlineMs: 5_000 }) });
    const lastDone = await resumed.next((e) => e.event === 'done');
    await resumed.ended;
    // Done again: one resuming from the same id is replayed everything since, then the last done.
    const late = await follow(events('reopened'), { 'last-event-id': before.id! });
    await late.ended;

    expect(firstDone.data).toMatchObject({ total: 2, completed: 0, failed: 2 });
    expect(caughtUp.data).toMatchObject({ total: 2, completed: 0, failed: 0, sealed: true });
    expect(resumed.events.slice(0, 3).map((e) => [e.event, e.data.id])).toEqual([
      ['job.failed', 're-1'],
      ['job.failed', 're-2'],
      ['progress', undefined],
    ]);
    expect(lastDone.data).toMatchObject({ total: 2, completed: 2, failed: 0 });
    expect(lastDone.id).not.toBe(firstDone.id);
    for (const client of [resumed, late]) {
      expect(client.events.filter((e) => e.event === 'done')).toEqual([lastDone]);
      expect(client.events.at(-1)).toEqual(lastDone);
      expect(nonDecreasing(ids(client.events))).toBe(true);
    }
    expect(late.events.filter((e) => e.event === 'job.failed').map((e) => e.data.id)).toEqual([
      're-1',
      're-2',
    ]);
  });

  it('sends the failures of a batch that ended while the client subscribed before its done', async () => {
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: config() }));
    await producer.enqueueBatch([ask('e-1'), ask('e-2')], { batchId: 'ending' });
    const keys = keysFor(ctx.prefix);
    /** Saves the batch's last result once the stream has subscribed, just before it reads the batch. */
    class EndingStore extends ResultStore {
      private ended = false;
      override async state(batchId: string): Promise<BatchState | undefined> {
        if (!this.ended) {
          this.ended = true;
          await this.save(resultFor('e-1', 'ending', 'completed'));
          await this.save(resultFor('e-2', 'ending', 'failed'));
        }
        return super.state(batchId);
      }
    }
    const tail = new ResultsTail(ctx.redis, keys.results);
    pipe.track({ close: () => tail.close() });
    const deps = {
      redis: ctx.redis,
      keys,
      store: new EndingStore(ctx.redis, { prefix: ctx.prefix }),
      tail,
      logger: silentLogger,
      progressMs: 50,
      heartbeatMs: 60_000,
    };
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'close' });
      void new BatchEventStream(deps, 'ending', res).start(undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pipe.track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });

    const client = await follow(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await client.ended;

    expect(client.events.map((e) => [e.event, e.data.id])).toEqual([
      ['progress', undefined],
      ['job.failed', 'e-2'],
      ['done', undefined],
    ]);
    expect(client.events.at(-1)?.data).toMatchObject({ total: 2, completed: 1, failed: 1 });
    expect(nonDecreasing(ids(client.events))).toBe(true);
  });

  it('answers a batch that is already done with its counters and done at once; 404 for no batch', async () => {
    const { producer, events } = await listening();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await producer.enqueueBatch([ask('f-1')], { batchId: 'finished' });
    await store.save(resultFor('f-1', 'finished', 'completed'));

    const client = await follow(events('finished'));
    await client.ended;
    const unknown = await follow(events('nobody'));
    const badId = await follow(events('finished'), { 'last-event-id': 'yesterday' });
    const noToken = await openEvents(events('finished'));
    await noToken.ended;

    expect(client.events.map((e) => [e.event, e.data])).toEqual([
      ['progress', { batchId: 'finished', total: 1, completed: 1, failed: 0, sealed: true }],
      ['done', { batchId: 'finished', total: 1, completed: 1, failed: 0, finishedAt: expect.any(String) }],
    ]);
    expect(unknown.status).toBe(404);
    expect(badId.status).toBe(400);
    expect(noToken.status).toBe(401);
  });

  it('shares one stream reader among clients, sends heartbeats, and lets go of clients that leave', async () => {
    const { api, producer, events } = await listening(config({ eventsHeartbeatMs: 20 }));
    await producer.enqueueBatch([ask('h-1')], { batchId: 'quiet-1', open: true });
    await producer.enqueueBatch([ask('h-2')], { batchId: 'quiet-2', open: true });

    const clients = await Promise.all([
      follow(events('quiet-1')),
      follow(events('quiet-1')),
      follow(events('quiet-2')),
    ]);
    await Promise.all(clients.map((c) => c.commented(2)));
    const readers = String(await ctx.redis.client('LIST'))
      .split('\n')
      .filter((line) => line.includes(`name=bedrock-jobs-results-tail-${ctx.prefix}:results `));
    const following = api.eventClients();
    for (const c of clients) c.close();
    await expect.poll(() => api.eventClients(), { timeout: 10_000, interval: 10 }).toBe(0);

    expect(following).toBe(3);
    expect(readers).toHaveLength(1);
    expect(readers[0]).toMatch(/ cmd=xread /);
  });
});
