/**
 * What every crash-suite case shares: a directory, key prefix and cleanup per test, the jobs'
 * outcomes read from Redis as a user would (results stream, result records, batch counters),
 * the queue's view of running jobs, and a poll that is only a safety net around an outcome
 * that the case waits for.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach } from 'vitest';
import { type Keys, keysFor } from '../../src/redis/keys.js';
import { deleteKeys } from '../../src/redis/purge.js';
import { testPrefix } from '../helpers/redis.js';
import { spawnWorkerProcess, type WorkerProcess, type WorkerSpec } from '../helpers/worker-process.js';

interface Closable {
  close(): Promise<void> | void;
}

export interface ChaosContext {
  /** A directory of this test's own (config files), removed after it. */
  readonly dir: string;
  /** This test's key prefix, `{t-<uuid>}`. */
  readonly prefix: string;
  readonly keys: Keys;
  /** Closes `thing` after the test, last tracked first. */
  track<T extends Closable>(thing: T): T;
  /** Deletes this test's keys on `redis` after the test (on its own server, nothing to do). */
  cleanKeysOn(url: string): void;
  /** Starts a worker process, killed after the test (also when it never got going). */
  startWorker(spec: WorkerSpec): Promise<WorkerProcess>;
}

/** Registers the per-test hooks; read the context inside tests. */
export function useChaos(): ChaosContext {
  let dir: string | undefined;
  let prefix: string | undefined;
  let open: Closable[] = [];
  let cleanUrls: string[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bj-chaos-'));
    prefix = testPrefix();
  });
  afterEach(async () => {
    // Everything is closed even when one close fails; the first failure is reported.
    const failures: unknown[] = [];
    for (const thing of open.reverse())
      await Promise.resolve(thing.close()).catch((e: unknown) => failures.push(e));
    for (const url of cleanUrls) {
      const redis = new Redis(url, { maxRetriesPerRequest: 1 });
      await deleteKeys(redis, prefix!).finally(() => redis.disconnect());
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    open = [];
    cleanUrls = [];
    if (failures.length > 0) throw failures[0];
  });
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('only inside tests of a useChaos() file');
    return v;
  };
  return {
    get dir() {
      return need(dir);
    },
    get prefix() {
      return need(prefix);
    },
    get keys() {
      return keysFor(need(prefix));
    },
    track(thing) {
      open.push(thing);
      return thing;
    },
    cleanKeysOn(url) {
      cleanUrls.push(url);
    },
    async startWorker(spec) {
      const worker = spawnWorkerProcess(spec);
      open.push({ close: () => worker.kill().then(() => undefined) });
      await worker.started;
      return worker;
    },
  };
}

/** Writes a worker config file (JSON) into `dir` and returns its path. */
export function writeConfig(dir: string, config: Record<string, unknown>, name = 'config.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/**
 * Polls `check` until it returns a value other than undefined. Only a safety net: the case
 * waits for something it caused to become visible in Redis, and `timeoutMs` is far beyond
 * the time that takes.
 * @throws naming `what` and the last value `describe` gives, when the time is up
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<unknown> } = {},
): Promise<T> {
  const deadline = performance.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      const state = opts.describe ? ` (now: ${JSON.stringify(await opts.describe())})` : '';
      throw new Error(`gave up waiting for ${what}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 25));
  }
}

/**
 * `work`, unless it has not settled after `timeoutMs`: then an error naming `what` and what
 * `describe` says about the state now. A safety net around an outcome the case waits for.
 */
export async function within<T>(
  what: string,
  work: Promise<T>,
  opts: { timeoutMs: number; describe?: () => Promise<unknown> },
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const state = opts.describe ? opts.describe().catch((e: unknown) => String(e)) : Promise.resolve();
      void state.then((now) =>
        reject(
          new Error(
            `${what}: not after ${opts.timeoutMs} ms${now === undefined ? '' : ` (now: ${JSON.stringify(now)})`}`,
          ),
        ),
      );
    }, opts.timeoutMs);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The jobs held now, id → lock token: in BullMQ's active list with their lock in place. A
 * killed worker's jobs stay in the list until the stalled-job check moves them, and keep its
 * lock until it expires (`worker.lockDurationMs`); each worker's tokens are its own.
 */
export async function heldJobs(redis: Redis, keys: Keys): Promise<Map<string, string>> {
  const active = await redis.lrange(keys.bullActive, 0, -1);
  if (active.length === 0) return new Map();
  const locks = await redis.mget(active.map((id) => `${keys.bullJob(id)}:lock`));
  const held = new Map<string, string>();
  active.forEach((id, i) => {
    const token = locks[i];
    if (token !== null && token !== undefined) held.set(id, token);
  });
  return held;
}

/** One finished job as the results stream announced it. */
export interface Finished {
  id: string;
  batchId: string;
  status: string;
}

/** The results stream's job entries (not the batches' `done` entries), in order. */
export async function finishedJobs(redis: Redis, keys: Keys): Promise<Finished[]> {
  const entries = await redis.xrange(keys.results, '-', '+');
  const out: Finished[] = [];
  for (const [, fields] of entries) {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    if (f.id !== undefined && f.status !== 'done')
      out.push({ id: f.id, batchId: f.batchId ?? '', status: f.status ?? '' });
  }
  return out;
}

/** How often each id appears, for the ids that appear more than once. */
export function repeated(ids: readonly string[]): Record<string, number> {
  const seen = new Map<string, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  return Object.fromEntries([...seen].filter(([, n]) => n > 1));
}

/** The stored result record of each id (`{prefix}:result:<id>`), parsed; null where none. */
export async function resultRecords(
  redis: Redis,
  keys: Keys,
  ids: readonly string[],
): Promise<(Record<string, unknown> | null)[]> {
  const out: (Record<string, unknown> | null)[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const raw = await redis.mget(ids.slice(i, i + 500).map((id) => keys.result(id)));
    for (const r of raw) out.push(r === null ? null : (JSON.parse(r) as Record<string, unknown>));
  }
  return out;
}

/** The batch hash's counters. */
export async function batchCounters(
  redis: Redis,
  keys: Keys,
  batchId: string,
): Promise<{ total: number; completed: number; failed: number }> {
  const [total, completed, failed] = await redis.hmget(keys.batch(batchId), 'total', 'completed', 'failed');
  return { total: Number(total ?? 0), completed: Number(completed ?? 0), failed: Number(failed ?? 0) };
}

/** A generate job on one model, answered by the simulator. */
export function job(id: string, model: string) {
  return {
    id,
    task: 'generate' as const,
    models: [model],
    messages: [{ role: 'user' as const, content: `Question ${id}` }],
  };
}
