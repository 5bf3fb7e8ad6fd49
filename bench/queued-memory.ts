/**
 * Where the Redis memory of a queued backlog goes: the load bench's bulk enqueue alone (the
 * same jobs, producers and measure as `bench/load.ts`, no worker, no simulator), then each key
 * the two systems wrote, grouped by kind, with `MEMORY USAGE` and `OBJECT ENCODING`. Runs its
 * own redis-server; nothing is left behind. Takes seconds where the load bench takes minutes.
 *
 *   npx tsx bench/queued-memory.ts [--jobs 100000]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { startOwnRedis } from '../test/helpers/redis-server.js';
import { jobId, LoadPlanSchema } from './load/plan.js';
import { baseline, bedrockJobs, type LoadSystem, SYSTEM_NAMES } from './load/systems.js';

/** Keys read per pipeline. */
const PIPELINE_SIZE = 1_000;

const { values } = parseArgs({ options: { jobs: { type: 'string' } } });
const jobs = z.coerce.number().int().positive().default(100_000).parse(values.jobs);
const plan = LoadPlanSchema.parse({ jobs });

/** One kind of key: a job id in its name stands for every job's key of that kind. */
interface KeyKind {
  keys: number;
  bytes: number;
  encodings: Set<string>;
}

async function usedMemory(redis: Redis): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await redis.info('memory'));
  if (!match?.[1]) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', PIPELINE_SIZE);
    cursor = next;
    out.push(...page);
  } while (cursor !== '0');
  return out;
}

async function kindsOf(redis: Redis, prefix: string): Promise<Map<string, KeyKind>> {
  const keys = await keysUnder(redis, prefix);
  const kinds = new Map<string, KeyKind>();
  for (let i = 0; i < keys.length; i += PIPELINE_SIZE) {
    const page = keys.slice(i, i + PIPELINE_SIZE);
    const pipeline = redis.pipeline();
    for (const key of page) {
      pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
      pipeline.call('OBJECT', 'ENCODING', key);
    }
    const replies = (await pipeline.exec()) ?? [];
    page.forEach((key, j) => {
      const name = key.slice(prefix.length).replace(/drain-\d+/, '<id>');
      const kind = kinds.get(name) ?? { keys: 0, bytes: 0, encodings: new Set<string>() };
      kind.keys++;
      kind.bytes += Number(replies[2 * j]?.[1] ?? 0);
      kind.encodings.add(String(replies[2 * j + 1]?.[1]));
      kinds.set(name, kind);
    });
  }
  return kinds;
}

/** Enqueues the backlog with the queue paused and prints what it took, in total and per kind of key. */
async function measure(system: LoadSystem, prefix: string, redis: Redis): Promise<string[]> {
  await system.queue.pause();
  const ids = Array.from({ length: jobs }, (_, i) => jobId('drain', i));
  const before = await usedMemory(redis);
  await system.enqueue('drain', ids, false);
  const queued = (await usedMemory(redis)) - before;
  const perJob = (bytes: number) => (bytes / jobs).toFixed(1).padStart(8);
  const lines = [
    `${system.name}: used_memory ${perJob(queued)} B per job, ${((queued / jobs) * (1000 / 1024)).toFixed(0)} KB per 1k jobs`,
  ];
  const kinds = [...(await kindsOf(redis, prefix))].sort(([, a], [, b]) => b.bytes - a.bytes);
  let counted = 0;
  for (const [name, kind] of kinds) {
    counted += kind.bytes;
    lines.push(
      `  ${name.padEnd(24)} ${String(kind.keys).padStart(7)} keys ${perJob(kind.bytes)} B per job  ${[...kind.encodings].join(', ')}`,
    );
  }
  // Key names, the key and expiry tables and their growth: what MEMORY USAGE of each key leaves out.
  lines.push(`  ${'(tables, buffers)'.padEnd(24)} ${''.padStart(12)} ${perJob(queued - counted)} B per job`);
  return lines;
}

const server = await startOwnRedis();
const redis = new Redis(server.url);
const dir = mkdtempSync(join(tmpdir(), 'bj-bench-memory-'));
try {
  const run = randomUUID().slice(0, 8);
  // No worker runs: the endpoint is never called.
  const targets = { redisUrl: server.url, endpoint: 'http://127.0.0.1:9', dir };
  const prefixes = { baseline: `{load-base-${run}}`, 'bedrock-jobs': `{load-bj-${run}}` } as const;
  const out = [`${jobs} jobs enqueued in bulk per system, queue paused (the load bench's drain backlog)`];
  for (const name of SYSTEM_NAMES) {
    const make = name === 'baseline' ? baseline : bedrockJobs;
    const system = make(plan, targets, prefixes[name]);
    try {
      out.push(...(await measure(system, prefixes[name], redis)));
    } finally {
      await system.close();
    }
  }
  console.log(out.join('\n'));
} finally {
  await redis.quit();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
