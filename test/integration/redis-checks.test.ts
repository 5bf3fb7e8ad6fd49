import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import { RedisSetupError } from '../../src/redis/checks.js';
import { logSink } from '../helpers/log-sink.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';

const ctx = useRedis();
const pipe = usePipeline();
const servers: OwnRedis[] = [];
const admins: Redis[] = [];
let running: { worker?: RunningWorker; api?: RunningApi } = {};

/** A private Redis with these options; stopped after the file. */
async function server(...args: string[]): Promise<OwnRedis> {
  const s = await startOwnRedis(args);
  servers.push(s);
  return s;
}

function admin(s: OwnRedis): Redis {
  const r = new Redis(s.url);
  admins.push(r);
  return r;
}

function configFor(s: OwnRedis): Config {
  return loadConfig({ env: {}, overrides: { redisUrl: s.url, prefix: ctx.prefix, endpoint: pipe.sim.url } });
}

/** The `redis.code` of every line a check logged. */
function findings(entries: Record<string, unknown>[]): string[] {
  return entries.flatMap((e) => {
    const redis = e.redis as { code?: string } | undefined;
    return redis?.code ? [redis.code] : [];
  });
}

afterEach(async () => {
  await running.worker?.close({ deadlineMs: 5_000 });
  await running.api?.close();
  running = {};
  for (const r of admins.splice(0)) {
    if (r.status === 'end') continue;
    const ended = new Promise((resolve) => r.once('end', resolve));
    r.disconnect();
    await ended;
  }
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('a Redis that may evict keys', () => {
  let evicting: OwnRedis;
  beforeAll(async () => {
    evicting = await server('--maxmemory-policy', 'allkeys-lru');
  });

  it('stops the worker from starting, saying what to set, in one error line', async () => {
    const sink = logSink();

    const started = startWorker({ config: configFor(evicting), logger: sink.logger });

    await expect(started).rejects.toThrow(RedisSetupError);
    await expect(started).rejects.toThrow(/maxmemory-policy is allkeys-lru, not noeviction/);
    const errors = sink.entries().filter((e) => e.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ redis: { code: 'evicting', nodes: [`127.0.0.1:${evicting.port}`] } });
  });

  it('stops the API from starting, and a producer from enqueueing anything', async () => {
    const config = configFor(evicting);
    const producer = createProducer({ redis: evicting.url, config });

    await expect(buildApi({ config })).rejects.toThrow(RedisSetupError);
    await expect(
      producer.enqueue({ id: 'lost', task: 'generate', messages: [{ role: 'user', content: 'Hi' }] }),
    ).rejects.toThrow(/allkeys-lru/);
    await producer.close();
    // BullMQ writes its queue's meta hash when the queue opens; nothing else may be there.
    const keys = await admin(evicting).keys('*');
    expect(keys.filter((k) => !k.endsWith(':jobs:meta'))).toEqual([]);
  });
});

describe('persistence', () => {
  it('warns once, in one structured line, when Redis keeps neither AOF nor RDB snapshots', async () => {
    const volatile = await server(); // the helper's defaults: --save "" --appendonly no
    const sink = logSink();

    running.worker = await startWorker({ config: configFor(volatile), logger: sink.logger });

    const warned = sink.entries().filter((e) => findings([e]).length > 0);
    expect(findings(warned)).toEqual(['no-persistence']);
    expect(warned[0]).toMatchObject({
      level: 40,
      msg: expect.stringMatching(/restart loses every queued job/),
    });
  });

  it('says nothing about it when asked not to (throwaway data, as in the demo)', async () => {
    const volatile = await server();
    const sink = logSink();

    running.worker = await startWorker({
      config: configFor(volatile),
      logger: sink.logger,
      checkPersistence: false,
    });

    expect(findings(sink.entries())).toEqual([]);
  });

  it('says nothing when the append-only file is on', async () => {
    const durable = await server('--appendonly', 'yes');
    const sink = logSink();

    running.worker = await startWorker({ config: configFor(durable), logger: sink.logger });

    expect(findings(sink.entries())).toEqual([]);
  });
});

describe('managed Redis where CONFIG is renamed away (ElastiCache, MemoryDB)', () => {
  it('reads the policy from INFO and starts, warning that persistence could not be verified', async () => {
    const managed = await server('--rename-command', 'CONFIG', '');
    const sink = logSink();

    running.worker = await startWorker({ config: configFor(managed), logger: sink.logger });

    expect(findings(sink.entries())).toEqual(['persistence-unverified']);
  });

  it('still refuses an evicting policy, since INFO names it', async () => {
    const managed = await server('--rename-command', 'CONFIG', '', '--maxmemory-policy', 'volatile-lru');

    await expect(startWorker({ config: configFor(managed) })).rejects.toThrow(/volatile-lru/);
  });
});

describe('health and metrics', () => {
  it('turn unhealthy when the policy is changed to an evicting one after start', async () => {
    const redis = await server();
    running.api = await buildApi({ config: configFor(redis) });
    const { app } = running.api;
    const before = await app.inject({ method: 'GET', url: '/healthz' });
    const metricsBefore = await app.inject({ method: 'GET', url: '/metrics' });

    await admin(redis).config('SET', 'maxmemory-policy', 'volatile-lru');
    const after = await app.inject({ method: 'GET', url: '/healthz' });
    const metricsAfter = await app.inject({ method: 'GET', url: '/metrics' });

    expect(before.statusCode).toBe(200);
    expect(before.json()).toEqual({ ok: true, redis: 'up', maxmemoryPolicy: 'noeviction' });
    expect(metricsBefore.body).toMatch(/^bedrock_jobs_redis_noeviction 1$/m);
    expect(after.statusCode).toBe(503);
    expect(after.json()).toEqual({
      ok: false,
      redis: 'up',
      maxmemoryPolicy: 'volatile-lru',
      problem: expect.stringMatching(/volatile-lru, not noeviction/),
    });
    expect(metricsAfter.body).toMatch(/^bedrock_jobs_redis_noeviction 0$/m);
  });
});
