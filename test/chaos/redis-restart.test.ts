/**
 * Redis (a server of the test's own, AOF on as docs/deployment.md recommends) stopped and
 * started again under a running batch: once with SHUTDOWN, once with SIGKILL. No job the
 * producer was told is enqueued may be lost, workers reconnect without help, and a worker told
 * to stop while Redis is down still stops (docs/failure-modes.md).
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createProducer } from '../../src/queue/producer.js';
import { ProfileSchema, startSimulatorWithProfile } from '../../src/simulator/index.js';
import { startOwnRedis } from '../helpers/redis-server.js';
import type { LogLine, WorkerProcess } from '../helpers/worker-process.js';
import {
  batchCounters,
  finishedJobs,
  heldJobs,
  job,
  repeated,
  resultRecords,
  useChaos,
  waitFor,
  within,
  writeConfig,
} from './harness.js';

const chaos = useChaos();
const MODEL = 'amazon.nova-micro-v1:0';
const AOF = ['--appendonly', 'yes', '--appendfsync', 'everysec'];

/** A simulator whose calls to MODEL take `callMs`. */
async function simulator(callMs: number) {
  return chaos.track(
    await startSimulatorWithProfile({
      profile: ProfileSchema.parse({
        jitter: 0,
        models: { [MODEL]: { firstTokenMs: callMs, tokensPerSecond: 1e6, rpm: 1e9, tpm: 1e12 } },
      }),
    }),
  );
}

/** Resolves once `w` has logged a Redis connection error after its first `after` log lines. */
function noticesOutage(w: WorkerProcess, after: number): Promise<LogLine> {
  return waitFor('the worker to notice Redis is gone', async () =>
    w.lines.slice(after).find((l) => l.msg === 'redis connection error'),
  );
}

describe('Redis restarted under a running batch', () => {
  it('loses no accepted job through a SHUTDOWN and a kill -9; workers reconnect by themselves and finish', async () => {
    const redis = chaos.track(await startOwnRedis(AOF));
    const sim = await simulator(400);
    const configFile = writeConfig(chaos.dir, {
      prefix: chaos.prefix,
      models: { [MODEL]: { rpm: 1e9, tpm: 1e12 } },
      // Locks outlast a short outage; should one lapse anyway, a job survives the stall.
      worker: {
        lockDurationMs: 5_000,
        stalledIntervalMs: 1_000,
        maxStalledCount: 2,
        shutdownTimeoutMs: 2_000,
      },
    });
    const producer = chaos.track(createProducer({ redis: redis.url, prefix: chaos.prefix }));
    const ids = Array.from({ length: 200 }, (_, i) => `restart-${i}`);
    await producer.enqueueBatch(
      ids.map((id) => job(id, MODEL)),
      { batchId: 'restart' },
    );
    // The producer follows the batch from before the first outage to its end.
    const waiting = producer.waitForBatch('restart', { pollMs: 500 });
    const spec = { redisUrl: redis.url, endpoint: sim.url, configFile, concurrency: 8 };
    const workers = await Promise.all([chaos.startWorker(spec), chaos.startWorker(spec)]);
    const admin = new Redis(redis.url);
    admin.on('error', () => {});
    chaos.track({ close: () => admin.disconnect() });
    const finishedAtLeast = (n: number) =>
      waitFor(`${n} results`, async () =>
        (await finishedJobs(admin, chaos.keys)).length >= n ? true : undefined,
      );

    // An operator's restart: SHUTDOWN writes the AOF, then the server starts again from it.
    await finishedAtLeast(30);
    let seen = workers.map((w) => w.lines.length);
    await redis.shutdown();
    await Promise.all(workers.map((w, i) => noticesOutage(w, seen[i]!)));
    await redis.restart();
    // A crash: the server is killed; what it acknowledged is in the AOF (fsync every second).
    await finishedAtLeast(90);
    seen = workers.map((w) => w.lines.length);
    await redis.kill();
    await Promise.all(workers.map((w, i) => noticesOutage(w, seen[i]!)));
    await redis.restart();
    const counters = await waiting;

    const finished = await finishedJobs(admin, chaos.keys);
    const records = await resultRecords(admin, chaos.keys, ids);
    expect(counters).toMatchObject({ total: ids.length, completed: ids.length, failed: 0 });
    expect(await batchCounters(admin, chaos.keys, 'restart')).toEqual({
      total: ids.length,
      completed: ids.length,
      failed: 0,
    });
    expect(repeated(finished.map((f) => f.id))).toEqual({});
    expect(finished.map((f) => f.id).sort()).toEqual([...ids].sort());
    expect(records.every((r) => r?.status === 'completed')).toBe(true);
    // The same two processes finished the batch: neither was restarted.
    expect(workers.map((w) => w.alive())).toEqual([true, true]);
  }, 180_000);

  it('stops a worker told to stop while Redis is down, within its deadline and saying so; the batch still ends', async () => {
    const redis = chaos.track(await startOwnRedis(AOF));
    // Calls outlast the outage, so the worker holds running jobs when told to stop.
    const sim = await simulator(2_000);
    const shutdownTimeoutMs = 1_000;
    const configFile = writeConfig(chaos.dir, {
      prefix: chaos.prefix,
      models: { [MODEL]: { rpm: 1e9, tpm: 1e12 } },
      worker: { lockDurationMs: 2_000, stalledIntervalMs: 1_000, maxStalledCount: 2, shutdownTimeoutMs },
    });
    const producer = chaos.track(createProducer({ redis: redis.url, prefix: chaos.prefix }));
    const ids = Array.from({ length: 12 }, (_, i) => `stop-${i}`);
    await producer.enqueueBatch(
      ids.map((id) => job(id, MODEL)),
      { batchId: 'stop' },
    );
    const spec = { redisUrl: redis.url, endpoint: sim.url, configFile, concurrency: 4 };
    const stopping = await chaos.startWorker(spec);
    const admin = new Redis(redis.url);
    admin.on('error', () => {});
    chaos.track({ close: () => admin.disconnect() });
    await waitFor('the worker to hold its jobs', async () =>
      (await heldJobs(admin, chaos.keys)).size === 4 ? true : undefined,
    );

    const seen = stopping.lines.length;
    await redis.kill();
    await noticesOutage(stopping, seen);
    stopping.signal('SIGTERM');
    // Safety net only: the bound that matters is read from the worker's log below.
    const exit = await within('the worker to exit after SIGTERM', stopping.exited, {
      timeoutMs: shutdownTimeoutMs + 30_000,
    });
    await redis.restart();
    await chaos.startWorker(spec);
    const counters = await producer.waitForBatch('stop', { pollMs: 500 });

    const msgs = stopping.lines.map((l) => l.msg);
    const finished = await finishedJobs(admin, chaos.keys);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(msgs).toEqual(
      expect.arrayContaining([
        'stopping: finishing active jobs',
        'active jobs did not finish in time; aborting them',
        'worker stopped',
      ]),
    );
    expect(msgs.at(-1)).toBe('worker stopped');
    // On the worker's own clock: its deadline, two seconds for the aborted jobs to go back,
    // then every connection cut at once (docs/failure-modes.md); as long again for a busy machine.
    const at = (msg: string) => stopping.lines.find((l) => l.msg === msg)?.time ?? Number.NaN;
    expect(at('worker stopped') - at('stopping: finishing active jobs')).toBeLessThan(
      shutdownTimeoutMs + 4_000,
    );
    expect(counters).toMatchObject({ total: ids.length, completed: ids.length, failed: 0 });
    expect(repeated(finished.map((f) => f.id))).toEqual({});
    expect(finished.map((f) => f.id).sort()).toEqual([...ids].sort());
  }, 120_000);
});
