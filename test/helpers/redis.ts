/**
 * A real Redis for integration tests, a fresh key prefix per test, and a leak check.
 *
 * Usage, in a `test/integration/*.test.ts`:
 * ```ts
 * const ctx = useRedis();
 * it('…', async () => {
 *   const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix });
 *   …
 *   await producer.close(); // or in your own afterEach: it runs before the leak check
 * });
 * ```
 * `useRedis()` registers the hooks: one shared admin connection per file, a prefix
 * `{t-<uuid>}` per test, and after each test it deletes that prefix's keys and fails the test
 * if it left a socket open (a Redis connection, Queue or Worker not closed).
 *
 * Redis is found at `REDIS_URL`, else 127.0.0.1:6379; only when neither answers and Docker is
 * there does it start a `redis:7-alpine` container (testcontainers' reaper removes it when the
 * process exits).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { deleteKeys } from '../../src/redis/purge.js';

export { deleteKeys };

const LOCAL_URL = 'redis://127.0.0.1:6379';

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function startContainer(): Promise<string> {
  const { GenericContainer } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
  return `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
}

async function findRedis(): Promise<string> {
  const candidates = [process.env.REDIS_URL, LOCAL_URL].filter((u): u is string => Boolean(u));
  for (const url of candidates) if (await answers(url)) return url;
  try {
    return await startContainer();
  } catch (err) {
    throw new Error(
      `no Redis answers at ${candidates.join(' or ')}, and starting one with Docker failed: ${String(err)}`,
    );
  }
}

let found: Promise<string> | undefined;

/** The URL of a Redis that answers; found (or started) once per test process. */
export function redisUrl(): Promise<string> {
  found ??= findRedis();
  return found;
}

/** A key prefix no other test uses; the braces keep its keys in one cluster slot. */
export function testPrefix(): string {
  return `{t-${randomUUID()}}`;
}

/**
 * Redis's own clock in ms: expiries are set on it, so a test compares them with this rather
 * than with how long the test itself took.
 */
export async function redisTimeMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
}

/** Open TCP sockets of this process (each Redis connection is one). */
export function openSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

/**
 * Fails when more sockets are open than `baseline`. A socket closed by `quit()`/`disconnect()`
 * leaves the list a few event-loop turns later; on a busy machine the kernel may take longer to
 * report the close, so after 100 turns it keeps looking for up to 2 s. A leaked socket never
 * closes, so the bound only decides how soon a leak is reported, not whether a test passes.
 */
export async function expectNoLeakedSockets(baseline: number): Promise<void> {
  for (let turn = 0; turn < 100 && openSockets() > baseline; turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  for (let waited = 0; waited < 2_000 && openSockets() > baseline; waited += 20) {
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
  const open = openSockets();
  if (open > baseline) {
    throw new Error(
      `test left ${open - baseline} socket(s) open: close every Redis, Queue and Worker it made`,
    );
  }
}

export interface RedisTestContext {
  /** URL of the test Redis. */
  readonly url: string;
  /** Shared admin connection of this file; do not close it. */
  readonly redis: Redis;
  /** This test's prefix, `{t-<uuid>}`. */
  readonly prefix: string;
}

/** Registers the hooks described at the top of this file; read the context inside tests. */
export function useRedis(): RedisTestContext {
  let url: string | undefined;
  let redis: Redis | undefined;
  let prefix: string | undefined;
  let baseline = 0;

  beforeAll(async () => {
    url = await redisUrl();
    redis = new Redis(url);
  });
  beforeEach(() => {
    prefix = testPrefix();
    baseline = openSockets();
  });
  afterEach(async () => {
    if (redis && prefix) await deleteKeys(redis, prefix);
    await expectNoLeakedSockets(baseline);
  });
  afterAll(async () => {
    await redis?.quit();
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is only available inside tests of a useRedis() file`);
    return value;
  };
  return {
    get url() {
      return need(url, 'url');
    },
    get redis() {
      return need(redis, 'redis');
    },
    get prefix() {
      return need(prefix, 'prefix');
    },
  };
}
