import { createHmac, timingSafeEqual } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { deliveryJobId } from '../../src/callbacks/delivery.js';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createProducer } from '../../src/queue/producer.js';
import { JobValidationError } from '../../src/queue/validation.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import type { BatchState } from '../../src/results/batch-state.js';
import { ResultStore } from '../../src/results/store.js';
import { ask } from '../helpers/batches.js';
import { usePipeline } from '../helpers/pipeline.js';
import { type Answer, startReceiver } from '../helpers/receiver.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
const SECRET = 'a-test-secret-of-32-characters!!';
const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';

function config(callbacks: ConfigInput['callbacks'] = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      policy: { retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 } },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 2, busyBackoffMs: 50 },
      callbacks: { secret: SECRET, attempts: 3, backoffMs: 1, ...callbacks },
    },
  });
}

/** A receiver answering `answer`, a worker and a producer, all closed after the test. */
async function pipeline(answer: Answer, c: Config, logs?: PassThrough) {
  const receiver = pipe.track(await startReceiver(answer));
  const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
  const worker = await startWorker({
    config: c,
    fleetRateLimits: false,
    ...(logs ? { logger: createLogger({ level: 'debug', destination: logs }) } : {}),
  });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  return { receiver, producer };
}

/** The batch once its callback has ended (delivered or failed). */
async function settledCallback(batchId: string): Promise<BatchState> {
  const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
  let state: BatchState | undefined;
  await expect
    .poll(
      async () => {
        state = await store.state(batchId);
        return state?.callback?.status;
      },
      { timeout: 30_000, interval: 20 },
    )
    .toMatch(/^(delivered|failed)$/);
  return state!;
}

/** The documented recipe (docs/callbacks.md), written again here from the description alone. */
function verifies(header: string | string[] | undefined, body: string, secret: string): boolean {
  if (typeof header !== 'string') return false;
  const fields = new Map(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const t = fields.get('t');
  const v1 = fields.get('v1');
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(v1, 'hex');
  return given.length === mac.length && timingSafeEqual(given, mac);
}

describe('batch callbacks', () => {
  it('POSTs the done batch once, signed so that the documented recipe verifies it', async () => {
    const { receiver, producer } = await pipeline(() => 204, config());

    const { batchId } = await producer.enqueueBatch([ask('cb-1'), ask('cb-2')], {
      batchId: 'signed',
      callbackUrl: receiver.url,
    });
    const [request] = await receiver.received(1);
    const state = await settledCallback(batchId);
    const body = request!.body;

    expect(verifies(request!.headers['x-bedrock-jobs-signature'], body, SECRET)).toBe(true);
    expect(
      verifies(request!.headers['x-bedrock-jobs-signature'], body.replace('"total":2', '"total":3'), SECRET),
    ).toBe(false);
    expect(verifies(request!.headers['x-bedrock-jobs-signature'], body, `${SECRET}x`)).toBe(false);
    expect(JSON.parse(body)).toEqual({
      type: 'batch.done',
      batchId: 'signed',
      total: 2,
      completed: 2,
      failed: 0,
      finishedAt: state.finishedAt,
    });
    expect(request!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-bedrock-jobs-event': 'batch.done',
      'x-bedrock-jobs-delivery': expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(state.callback).toEqual({ on: 'done', status: 'delivered', attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('retries a receiver that fails twice: three attempts in all, one delivery, the same body each time', async () => {
    const { receiver, producer } = await pipeline((n) => (n === 1 ? 500 : n === 2 ? 503 : 200), config());
    const keys = keysFor(ctx.prefix);
    const deliveries = pipe.track(
      new Queue(keys.callbackQueueName, { connection: ctx.redis, prefix: keys.bullPrefix }),
    );

    await producer.enqueueBatch([ask('retry-1')], { batchId: 'flaky', callbackUrl: receiver.url });
    const state = await settledCallback('flaky');
    const deliveryId = String(receiver.requests[0]?.headers['x-bedrock-jobs-delivery']);
    const job = await deliveries.getJob(deliveryJobId(deliveryId));

    expect(state.callback).toEqual({ on: 'done', status: 'delivered', attempts: 3, lastError: 'HTTP 503' });
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    expect(new Set(receiver.requests.map((r) => r.headers['x-bedrock-jobs-delivery'])).size).toBe(1);
    expect(await job?.getState()).toBe('completed');
    expect(await ctx.redis.hlen(keys.callbackOutbox)).toBe(0);
    expect(receiver.requests).toHaveLength(3);
  });

  it('records a delivery that fails for good on the batch and logs it, without the secret', async () => {
    const logs = new PassThrough();
    let logged = '';
    logs.on('data', (d: Buffer) => {
      logged += d.toString();
    });
    const c = config({ attempts: 2, timeoutMs: 300 });
    // The first attempt gets no answer at all, the second a 500.
    const { receiver, producer } = await pipeline((n) => (n === 1 ? 'hang' : 500), c, logs);
    const api = pipe.track(await buildApi({ config: c }));

    await producer.enqueueBatch([ask('lost-1')], {
      batchId: 'unreachable',
      callbackUrl: `${receiver.url}?token=abc`,
    });
    await settledCallback('unreachable');
    const status = await api.app.inject({ method: 'GET', url: '/v1/batches/unreachable' });
    const failedLine = logged.split('\n').find((l) => l.includes('callback failed for good'));

    expect(status.json()).toMatchObject({
      done: true,
      callback: { on: 'done', status: 'failed', attempts: 2, lastError: 'HTTP 500' },
    });
    expect(logged).toContain('"error":"no answer within 300 ms"');
    expect(JSON.parse(failedLine ?? '{}')).toMatchObject({
      level: 50,
      batchId: 'unreachable',
      attempts: 2,
      error: 'HTTP 500',
      host: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain('token=abc');
    expect(receiver.requests).toHaveLength(2);
  });

  it('with failed-and-done, also POSTs each failed job with its kind, and never its prompt', async () => {
    pipe.sim.admin.setModel(CLAUDE, { enabled: false });
    const { receiver, producer } = await pipeline(() => 204, config());

    await producer.enqueueBatch(
      [
        { ...ask('fine', 'What is a queue?'), models: ['titan-express'] },
        { ...ask('broken', 'A secret question'), models: ['claude-3-haiku'] },
      ],
      { batchId: 'mixed', callbackUrl: receiver.url, callbackOn: 'failed-and-done' },
    );
    await receiver.received(2);
    const state = await settledCallback('mixed');
    await expect
      .poll(async () => (await new ResultStore(ctx.redis, { prefix: ctx.prefix }).state('mixed'))?.callback)
      .toMatchObject({ failedJobs: { delivered: 1, failed: 0 } });
    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);

    expect(bodies).toEqual(
      expect.arrayContaining([
        {
          type: 'job.failed',
          batchId: 'mixed',
          id: 'broken',
          kind: 'access_denied',
          failedAt: expect.any(String),
        },
        expect.objectContaining({ type: 'batch.done', batchId: 'mixed', total: 2, completed: 1, failed: 1 }),
      ]),
    );
    expect(receiver.requests.map((r) => r.headers['x-bedrock-jobs-event']).sort()).toEqual([
      'batch.done',
      'job.failed',
    ]);
    expect(
      receiver.requests.every((r) => verifies(r.headers['x-bedrock-jobs-signature'], r.body, SECRET)),
    ).toBe(true);
    expect(receiver.requests.some((r) => r.body.includes('secret question'))).toBe(false);
    expect(state.callback?.status).toBe('delivered');
  });
});

describe('a callbackUrl the service cannot use', () => {
  it('is refused at enqueue, naming the field, and nothing is enqueued', async () => {
    const noSecret = loadConfig({ env: {}, overrides: { redisUrl: ctx.url, prefix: ctx.prefix } });
    const allowList = config({ allowedHosts: ['hooks.example.com', '*.example.org'] });
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: noSecret }));
    const listed = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: allowList }));
    const api = pipe.track(await buildApi({ config: noSecret }));
    const post = (payload: object) => api.app.inject({ method: 'POST', url: '/v1/batches', payload });

    const unsigned = await producer
      .enqueueBatch([ask('x-1')], { batchId: 'refused', callbackUrl: 'https://hooks.example.com/done' })
      .catch((e: unknown) => e);
    const overHttp = await post({
      batchId: 'refused',
      jobs: [ask('x-1')],
      callbackUrl: 'https://hooks.example.com/done',
    });
    const scheme = await post({ batchId: 'refused', jobs: [ask('x-1')], callbackUrl: 'file:///etc/passwd' });
    const when = await post({
      batchId: 'refused',
      jobs: [ask('x-1')],
      callbackUrl: 'https://a.example',
      callbackOn: 'sometimes',
    });
    const offList = await listed
      .enqueueBatch([ask('x-1')], { batchId: 'refused', callbackUrl: 'http://127.0.0.1:9/internal' })
      .catch((e: unknown) => e);
    const onList = await listed.enqueueBatch([ask('x-2')], {
      batchId: 'allowed',
      callbackUrl: 'https://a.b.example.org/hook',
    });

    expect(unsigned).toBeInstanceOf(JobValidationError);
    expect((unsigned as Error).message).toBe(
      'callbackUrl: needs a signing secret: set CALLBACK_SECRET (or callbacks.secret in the config) for the producer and the workers',
    );
    expect(overHttp.statusCode).toBe(400);
    expect(overHttp.json().error).toMatch(/^callbackUrl: needs a signing secret/);
    expect(scheme.json()).toEqual({ error: 'callbackUrl: must be an http:// or https:// URL' });
    expect(when.statusCode).toBe(400);
    expect(when.json().error).toMatch(/^callbackOn: /);
    expect((offList as Error).message).toBe('callbackUrl: host "127.0.0.1" is not in callbacks.allowedHosts');
    expect(onList.enqueued).toBe(1);
    expect(await producer.getBatch('refused')).toBeUndefined();
  });
});
