import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CallbackOutbox } from '../../src/callbacks/outbox.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import { ask } from '../helpers/batches.js';
import { usePipeline } from '../helpers/pipeline.js';
import { startReceiver } from '../helpers/receiver.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'worker-dies-before-callback.ts');
const SECRET = 'a-test-secret-of-32-characters!!';

/** Runs the dying worker until it kills itself and returns how it ended. */
function workerKilledBeforeDelivery() {
  return new Promise<{ signal: NodeJS.Signals | null; stdout: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, ctx.url, ctx.prefix, pipe.sim.url, SECRET],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ signal, stdout }));
  });
}

describe('a worker killed after a batch ended, before its callback was queued', () => {
  it('leaves the callback in the outbox, and the next worker delivers it exactly once', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        redisUrl: ctx.url,
        prefix: ctx.prefix,
        endpoint: pipe.sim.url,
        callbacks: { secret: SECRET, backoffMs: 1 },
        worker: { shutdownTimeoutMs: 5_000 },
      },
    });
    const keys = keysFor(ctx.prefix);
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    const receiver = pipe.track(await startReceiver());
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const outbox = pipe.track(
      new CallbackOutbox({ redis: ctx.redis, keys, callbacks: config.callbacks, logger: silentLogger }),
    );
    // Enqueued (and sealed) before any worker runs: the worker's last result ends the batch.
    await producer.enqueueBatch([ask('k-1'), ask('k-2'), ask('k-3')], {
      batchId: 'killed',
      callbackUrl: receiver.url,
    });

    const died = await workerKilledBeforeDelivery();
    const afterCrash = await store.state('killed');
    const pending = await ctx.redis.hlen(keys.callbackOutbox);
    const requestsAfterCrash = receiver.requests.length;
    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    await receiver.received(1);
    await expect
      .poll(async () => (await store.state('killed'))?.callback?.status, { timeout: 30_000, interval: 20 })
      .toBe('delivered');
    const requeued = await outbox.flush();

    expect(died).toEqual({ signal: 'SIGKILL', stdout: 'callback pending\n' });
    expect(afterCrash).toMatchObject({ total: 3, completed: 3, done: true, callback: { status: 'pending' } });
    expect(pending).toBe(1);
    expect(requestsAfterCrash).toBe(0);
    expect(requeued).toBe(0);
    expect(await ctx.redis.hlen(keys.callbackOutbox)).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({
      type: 'batch.done',
      batchId: 'killed',
      total: 3,
    });
  }, 60_000);
});
