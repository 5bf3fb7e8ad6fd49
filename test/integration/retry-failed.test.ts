import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { createDeliveryProcessor } from '../../src/callbacks/deliver.js';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import type { ResultRecord } from '../../src/results/record.js';
import { ResultStore } from '../../src/results/store.js';
import { ask, doneEntries, resultFor } from '../helpers/batches.js';
import { usePipeline } from '../helpers/pipeline.js';
import { startReceiver } from '../helpers/receiver.js';
import { useRedis } from '../helpers/redis.js';
import { openEvents } from '../helpers/sse-client.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
const TITAN = 'amazon.titan-text-express-v1';
const SECRET = 'a-test-secret-of-32-characters!!';
const TOKEN = 'retry-test-token-0123';

function config(callbacks: ConfigInput['callbacks'] = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      apiToken: TOKEN,
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      // One model: while it is down every job fails at once, and its breaker never opens.
      chains: { default: ['titan-express'] },
      policy: {
        retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 },
        breaker: { consecutiveFailures: 1_000 },
      },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 1, busyBackoffMs: 50 },
      callbacks: { secret: SECRET, attempts: 3, backoffMs: 1, ...callbacks },
    },
  });
}

function jobs(batchId: string, count: number) {
  return Array.from({ length: count }, (_, i) => ask(`${batchId}-${i}`));
}

async function startPipelineWorker(c: Config) {
  const worker = await startWorker({ config: c, fleetRateLimits: false });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  return worker;
}

/** A batch whose every job failed while its one model was down; the outage is over on return. */
async function failedBatch(producer: Producer, batchId: string, count: number, callbackUrl?: string) {
  const fault = pipe.sim.admin.addFault({ model: TITAN, outage: true });
  await producer.enqueueBatch(jobs(batchId, count), { batchId, ...(callbackUrl ? { callbackUrl } : {}) });
  const counters = await producer.waitForBatch(batchId, { pollMs: 200 });
  pipe.sim.admin.removeFault(fault);
  return counters;
}

/** Every result of the batch as its export reads them, in order. */
async function exported(batchId: string): Promise<ResultRecord[]> {
  const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
  const out: ResultRecord[] = [];
  for await (const page of store.pages(batchId)) out.push(...page);
  return out;
}

describe('retrying the failed jobs of a batch', () => {
  it('re-enqueues them under the same ids once the model is back, and the batch ends again with one result per id', async () => {
    const c = config();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    await startPipelineWorker(c);

    const before = await failedBatch(producer, 'outage', 5);
    const retry = await producer.retryFailed('outage');
    const after = await producer.waitForBatch('outage', { pollMs: 200 });
    const results = await exported('outage');
    const queue = new Queue(keysFor(ctx.prefix).queueName, { connection: ctx.redis, prefix: ctx.prefix });
    const counts = await queue.getJobCounts('failed', 'completed');
    await queue.close();

    expect(before).toEqual({ batchId: 'outage', total: 5, completed: 0, failed: 5 });
    expect(retry).toEqual({
      batchId: 'outage',
      retried: 5,
      completed: 0,
      pending: 0,
      busy: [],
      expired: [],
      missing: [],
      unknown: [],
    });
    expect(after).toEqual({ batchId: 'outage', total: 5, completed: 5, failed: 0 });
    expect(results.map((r) => r.id).sort()).toEqual(jobs('outage', 5).map((j) => j.id));
    expect(results.every((r) => r.status === 'completed' && r.retry === 1)).toBe(true);
    expect(await doneEntries(ctx.redis, ctx.prefix, 'outage')).toHaveLength(2);
    expect(counts).toEqual({ failed: 0, completed: 5 });
  });

  it('retries only the ids asked for, and names those that are not in the batch', async () => {
    const c = config();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    await startPipelineWorker(c);
    await failedBatch(producer, 'some', 4);

    const retry = await producer.retryFailed('some', { ids: ['some-0', 'some-2', 'not-in-it'] });
    const after = await producer.waitForBatch('some', { pollMs: 200 });
    const results = await exported('some');

    expect(retry).toMatchObject({ retried: 2, unknown: ['not-in-it'] });
    expect(after).toEqual({ batchId: 'some', total: 4, completed: 2, failed: 2 });
    expect(Object.fromEntries(results.map((r) => [r.id, r.status]))).toEqual({
      'some-0': 'completed',
      'some-1': 'failed',
      'some-2': 'completed',
      'some-3': 'failed',
    });
  });

  it('enqueues each job once when two retries of the batch run at once', async () => {
    const c = config();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    const other = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    const worker = await startPipelineWorker(c);
    await failedBatch(producer, 'twice', 20);
    await worker.close({ deadlineMs: 5_000 });
    const callsBefore = pipe.sim.admin.stats().models[TITAN]?.ok ?? 0;

    const [a, b] = await Promise.all([producer.retryFailed('twice'), other.retryFailed('twice')]);
    await startPipelineWorker(c);
    const after = await producer.waitForBatch('twice', { pollMs: 200 });

    expect((a?.retried ?? 0) + (b?.retried ?? 0)).toBe(20);
    expect(after).toEqual({ batchId: 'twice', total: 20, completed: 20, failed: 0 });
    expect((pipe.sim.admin.stats().models[TITAN]?.ok ?? 0) - callsBefore).toBe(20);
    expect(await exported('twice')).toHaveLength(20);
  });

  it('never counts a late result of the attempt that failed', async () => {
    const c = config();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    const worker = await startPipelineWorker(c);
    await failedBatch(producer, 'late', 2);
    await worker.close({ deadlineMs: 5_000 });
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });

    await producer.retryFailed('late');
    // What a worker that lost its lock, or the queue's failure sweep, would write for the old run.
    const lateFailed = await store.save(resultFor('late-0', 'late', 'failed'));
    const lateCompleted = await store.save(resultFor('late-1', 'late', 'completed'));
    const reopened = await store.state('late');
    await startPipelineWorker(c);
    const after = await producer.waitForBatch('late', { pollMs: 200 });

    expect([lateFailed, lateCompleted]).toEqual([false, false]);
    expect(reopened).toMatchObject({ total: 2, completed: 0, failed: 0, done: false });
    expect(after).toEqual({ batchId: 'late', total: 2, completed: 2, failed: 0 });
    expect((await producer.getResult('late-0'))?.retry).toBe(1);
  });

  it('leaves a batch with nothing failed as it is', async () => {
    const c = config();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    await startPipelineWorker(c);
    await producer.enqueueBatch(jobs('fine', 3), { batchId: 'fine' });
    await producer.waitForBatch('fine', { pollMs: 200 });

    const retry = await producer.retryFailed('fine');
    const unknown = await producer.retryFailed('never-enqueued');

    expect(retry).toMatchObject({ retried: 0, completed: 3 });
    expect(await producer.getBatch('fine')).toEqual({ batchId: 'fine', total: 3, completed: 3, failed: 0 });
    expect(await doneEntries(ctx.redis, ctx.prefix, 'fine')).toHaveLength(1);
    expect(unknown).toBeUndefined();
  });

  it('sends the batch callback again when the retried batch ends, as a delivery of its own', async () => {
    const c = config();
    const receiver = pipe.track(await startReceiver(() => 204));
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    await startPipelineWorker(c);
    await failedBatch(producer, 'called', 2, receiver.url);
    await receiver.received(1);

    await producer.retryFailed('called');
    await producer.waitForBatch('called', { pollMs: 200 });
    const [first, second] = await receiver.received(2);

    expect(JSON.parse(first!.body)).toMatchObject({ type: 'batch.done', completed: 0, failed: 2 });
    expect(JSON.parse(second!.body)).toMatchObject({ type: 'batch.done', completed: 2, failed: 0 });
    expect(second!.headers['x-bedrock-jobs-delivery']).not.toBe(first!.headers['x-bedrock-jobs-delivery']);
  });

  it('is a route of the API, and the event stream of the reopened batch ends with its new done', async () => {
    const c = config();
    const api = pipe.track(await buildApi({ config: c }));
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    await startPipelineWorker(c);
    await failedBatch(producer, 'over-http', 3);

    const badIds = await api.app.inject({
      method: 'POST',
      url: '/v1/batches/over-http/retry-failed',
      headers: auth,
      payload: { ids: ['fine', 'a:b'] },
    });
    const unknown = await api.app.inject({
      method: 'POST',
      url: '/v1/batches/nope/retry-failed',
      headers: auth,
    });
    const retried = await fetch(`${base}/v1/batches/over-http/retry-failed`, {
      method: 'POST',
      headers: auth,
    });
    const events = await openEvents(`${base}/v1/batches/over-http/events`, auth);
    pipe.track({ close: async () => events.close() });
    const done = await events.next((e) => e.event === 'done');

    expect(badIds.statusCode).toBe(400);
    expect(badIds.json().error).toMatch(/^ids\[1\]: must not contain ":"/);
    expect(unknown.statusCode).toBe(404);
    expect(retried.status).toBe(202);
    expect(await retried.json()).toMatchObject({ batchId: 'over-http', retried: 3 });
    expect(done.data).toMatchObject({ batchId: 'over-http', total: 3, completed: 3, failed: 0 });
  });

  it('keeps a late delivery of the earlier end from changing the callback state of the reopened batch', async () => {
    // The first POST fails and its next attempt is far off; the test makes that attempt itself.
    const c = config({ backoffMs: 3_600_000 });
    const receiver = pipe.track(await startReceiver((n) => (n === 1 ? 503 : 204)));
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    const worker = await startPipelineWorker(c);
    await failedBatch(producer, 'late-call', 2, receiver.url);
    const [first] = await receiver.received(1);
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await expect
      .poll(async () => (await store.state('late-call'))?.callback, { timeout: 30_000, interval: 20 })
      .toMatchObject({ status: 'pending', attempts: 1 });
    await worker.close({ deadlineMs: 5_000 });

    await producer.retryFailed('late-call');
    const body = JSON.parse(first!.body) as {
      total: number;
      completed: number;
      failed: number;
      finishedAt: string;
    };
    const lateAttempt = await createDeliveryProcessor({
      redis: ctx.redis,
      keys: keysFor(ctx.prefix),
      config: c,
      logger: silentLogger,
    })({
      id: 'late',
      attemptsMade: 1,
      opts: { attempts: 3 },
      data: {
        event: 'batch.done',
        deliveryId: first!.headers['x-bedrock-jobs-delivery'],
        url: receiver.url,
        batchId: 'late-call',
        total: body.total,
        completed: body.completed,
        failed: body.failed,
        at: Date.parse(body.finishedAt),
      },
    } as never);
    const reopened = await store.state('late-call');

    expect(lateAttempt).toMatchObject({ status: 'delivered' });
    expect(reopened).toMatchObject({ done: false, callback: { status: 'waiting', attempts: 0 } });
  });
});
