/**
 * Worker processes killed with SIGKILL mid-batch, again and again, including a crash loop: the
 * worker that picks up the jobs recovered from a crash dies too, so those jobs stall more often
 * than `worker.maxStalledCount` allows and BullMQ fails them on its own. Every job must still
 * end with exactly one result and the batch must end (docs/failure-modes.md).
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createProducer } from '../../src/queue/producer.js';
import { ProfileSchema, startSimulatorWithProfile } from '../../src/simulator/index.js';
import { jsonLines, runCli } from '../e2e/helpers.js';
import { redisUrl } from '../helpers/redis.js';
import type { WorkerProcess } from '../helpers/worker-process.js';
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
/** Each call takes this long, so a job is still running when its worker is killed. */
const CALL_MS = 1_500;
const JOBS = 40;
const CONCURRENCY = 4;

describe('workers killed with SIGKILL mid-batch', () => {
  it('every job ends with exactly one result and the batch ends, through repeated kills and a crash loop', async () => {
    const url = await redisUrl();
    chaos.cleanKeysOn(url);
    const { keys, prefix } = chaos;
    const sim = chaos.track(
      await startSimulatorWithProfile({
        profile: ProfileSchema.parse({
          jitter: 0,
          models: { [MODEL]: { firstTokenMs: CALL_MS, tokensPerSecond: 1e6, rpm: 1e9, tpm: 1e12 } },
        }),
      }),
    );
    const configFile = writeConfig(chaos.dir, {
      prefix,
      models: { [MODEL]: { rpm: 1e9, tpm: 1e12 } },
      // A job survives one stall; the second one fails it.
      worker: {
        lockDurationMs: 2_000,
        stalledIntervalMs: 1_000,
        maxStalledCount: 1,
        shutdownTimeoutMs: 2_000,
      },
    });
    const admin = new Redis(url);
    chaos.track({ close: () => admin.quit().then(() => undefined) });
    const producer = chaos.track(createProducer({ redis: url, prefix }));
    const ids = Array.from({ length: JOBS }, (_, i) => `crash-${i}`);
    await producer.enqueueBatch(
      ids.map((id) => job(id, MODEL)),
      { batchId: 'crash' },
    );

    const start = (): Promise<WorkerProcess> =>
      chaos.startWorker({ redisUrl: url, endpoint: sim.url, configFile, concurrency: CONCURRENCY });
    // Locks of killed workers linger until they expire: a job counts as held by a live worker
    // only under a lock token no killed worker had.
    const deadTokens = new Set<string>();
    const live = async (): Promise<Map<string, string>> =>
      new Map([...(await heldJobs(admin, keys))].filter(([, token]) => !deadTokens.has(token)));
    /**
     * Kills `w` (the only live worker) and returns what it held: read before (a job may finish
     * in between) and after it died (its locks outlive it: exactly what it held at its death).
     */
    const killHolding = async (w: WorkerProcess, before: Map<string, string>) => {
      await w.kill();
      const after = await live();
      for (const token of [...before.values(), ...after.values()]) deadTokens.add(token);
      return { any: new Set([...before.keys(), ...after.keys()]), atDeath: new Set(after.keys()) };
    };

    // 1. A worker dies mid-batch with a full hand of jobs.
    const w1 = await start();
    const held1 = await waitFor('the first worker to hold its jobs', async () => {
      const h = await live();
      return h.size >= CONCURRENCY ? h : undefined;
    });
    const s1 = (await killHolding(w1, held1)).any;
    // 2. Crash loop: the worker that picks up jobs recovered from the first crash dies too.
    const w2 = await start();
    const held2 = await waitFor('the second worker to hold a job recovered from the first', async () => {
      const h = await live();
      return [...h.keys()].some((id) => s1.has(id)) ? h : undefined;
    });
    const killed2 = await killHolding(w2, held2);
    const s2 = killed2.any;
    const crashLoop = [...killed2.atDeath].filter((id) => s1.has(id));
    // 3. Another worker dies mid-batch, after finishing some jobs of its own.
    const finishedBefore = (await finishedJobs(admin, keys)).length;
    const w3 = await start();
    const held3 = await waitFor('the third worker to finish a job and hold others', async () => {
      const h = await live();
      const finished = (await finishedJobs(admin, keys)).length;
      return finished > finishedBefore && h.size > 0 ? h : undefined;
    });
    const s3 = (await killHolding(w3, held3)).any;
    // 4. Two workers finish the batch.
    await Promise.all([start(), start()]);
    const counters = await within('the batch to end', producer.waitForBatch('crash', { pollMs: 500 }), {
      timeoutMs: 90_000,
      describe: async () => ({
        counters: await batchCounters(admin, keys, 'crash'),
        finished: (await finishedJobs(admin, keys)).length,
        failedInQueue: await admin.zcard(`${keys.bullPrefix}:${keys.queueName}:failed`),
      }),
    });

    const finished = await finishedJobs(admin, keys);
    const records = await resultRecords(admin, keys, ids);
    const failed = ids.filter((_, i) => records[i]?.status === 'failed');
    const heldTwice = ids.filter((id) => [s1, s2, s3].filter((s) => s.has(id)).length >= 2);
    const cli = await runCli(['status', 'crash', '--json'], {
      env: { REDIS_URL: url, BEDROCK_JOBS_CONFIG: configFile },
    });

    expect(crashLoop.length).toBeGreaterThan(0);
    expect(repeated(finished.map((f) => f.id))).toEqual({});
    expect(finished.map((f) => f.id).sort()).toEqual([...ids].sort());
    expect(records.every((r) => r !== null)).toBe(true);
    // The crash loop's jobs failed, each saying why, and only jobs held at two deaths did; the
    // others completed.
    expect(failed).toEqual(expect.arrayContaining(crashLoop));
    expect(heldTwice).toEqual(expect.arrayContaining(failed));
    for (const r of records.filter((r) => r?.status === 'failed')) {
      expect(r).toMatchObject({ errorKind: 'worker_error', error: expect.stringMatching(/stalled/) });
    }
    const completed = JOBS - failed.length;
    expect(counters).toMatchObject({ total: JOBS, completed, failed: failed.length });
    expect(await batchCounters(admin, keys, 'crash')).toEqual({
      total: JOBS,
      completed,
      failed: failed.length,
    });
    expect(finished.filter((f) => f.status === 'failed').length).toBe(failed.length);
    expect(cli.code).toBe(0);
    expect(jsonLines(cli.stdout)[0]).toMatchObject({
      total: JOBS,
      completed,
      failed: failed.length,
      done: true,
      waiting: 0,
      active: 0,
      missing: 0,
    });
  }, 180_000);
});
