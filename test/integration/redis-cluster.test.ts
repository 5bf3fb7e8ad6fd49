import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { batchStatus } from '../../src/queue/batch-status.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { connectRedis, dataNodes, RedisSettingsSchema, whenReady } from '../../src/redis/connect.js';
import { keysFor } from '../../src/redis/keys.js';
import { deleteKeys } from '../../src/redis/purge.js';
import { readFleetState } from '../../src/resilience/fleet-view.js';
import { resultLines } from '../../src/results/export.js';
import { ResultStore } from '../../src/results/store.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';
import { type OwnRedisCluster, startOwnRedisCluster } from '../helpers/redis-server.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
// Llama 3.1 70B is served in us-east-1 through its `us.` profile only.
const LLAMA = 'us.meta.llama3-1-70b-instruct-v1:0';
const QUOTA = { rpm: 1e6, tpm: 1e9 };
/** About 15k tokens of English: longer than Titan Text Express's 8k window, so it is split into parts. */
const LONG = readFileSync(
  join(import.meta.dirname, '..', '..', 'examples', 'corpus', '208-en-article.txt'),
  'utf8',
).slice(0, 60_000);

const ctx = useRedis(); // a fresh prefix per test and the leak check; the keys live on the Cluster
// Registered before the pipeline's hooks, so it runs after they closed the worker (hooks run in reverse).
afterEach(async () => {
  await deleteKeys(admin, ctx.prefix);
});
const pipe = usePipeline({ models: { '*': QUOTA } });
let servers: OwnRedisCluster;
let admin: Cluster;

beforeAll(async () => {
  servers = await startOwnRedisCluster(3);
  admin = connectRedis(servers.url, RedisSettingsSchema.parse({ cluster: true })) as Cluster;
  // Open its connection to every master now, so the leak check's baseline includes them.
  await whenReady(admin);
  await Promise.all(dataNodes(admin).map((n) => n.ping()));
}, 60_000);
afterAll(async () => {
  await admin?.quit().catch(() => admin.disconnect());
  await servers?.close();
});

describe('on a 3-master Redis Cluster', () => {
  it('runs queue, worker, fleet limiter, fleet breaker, split documents and results, every key in one slot', async () => {
    const config = loadConfig({
      env: { REDIS_CLUSTER: '1', REDIS_URL: servers.url },
      overrides: {
        prefix: ctx.prefix,
        endpoint: pipe.sim.url,
        chains: { default: [CLAUDE, LLAMA] },
        models: { [CLAUDE]: QUOTA, [LLAMA]: QUOTA, 'amazon.titan-text-express-v1': QUOTA },
        policy: {
          retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 },
          breaker: { consecutiveFailures: 2, halfOpenAfterMs: 600_000 },
        },
        worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 2, busyBackoffMs: 50 },
      },
    });
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    const producer = pipe.track(createProducer({ redis: config.redisUrl, config }));
    const worker = await startWorker({ config });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const jobs = [
      ...Array.from({ length: 12 }, (_, i) => ({
        id: `g-${i}`,
        task: 'generate' as const,
        messages: [{ role: 'user' as const, content: `Question ${i}` }],
      })),
      { id: 'long', task: 'summarize' as const, models: ['titan-express'], document: LONG },
    ];

    const enqueued = await producer.enqueueBatch(jobs, { batchId: 'cl' });
    const again = await producer.enqueueBatch(jobs, { batchId: 'cl' });
    const counters = await producer.waitForBatch('cl', { pollMs: 200 });
    const keys = keysFor(ctx.prefix);
    const store = new ResultStore(admin, { prefix: ctx.prefix, ttlSeconds: 3600 });
    const status = await batchStatus(admin, keys, store, 'cl');
    const rows: string[] = [];
    for await (const line of resultLines(store, 'cl', { format: 'jsonl' })) rows.push(line);
    const fleet = await readFleetState(admin, config, new ModelCatalog());
    const long = await producer.getResult('long');

    expect(enqueued).toMatchObject({ enqueued: 13, duplicates: 0 });
    expect(again).toMatchObject({ enqueued: 0, duplicates: 13 });
    expect(counters).toEqual({ batchId: 'cl', total: 13, completed: 13, failed: 0 });
    expect(status).toMatchObject({ total: 13, completed: 13, failed: 0, waiting: 0, active: 0, missing: 0 });
    expect(rows.join('').trim().split('\n')).toHaveLength(13);
    expect(long).toMatchObject({ status: 'completed', modelId: 'amazon.titan-text-express-v1' });
    expect(pipe.sim.admin.stats().models['amazon.titan-text-express-v1']?.ok).toBeGreaterThan(2);
    expect(fleet.find((f) => f.modelId === CLAUDE)?.breaker.state).toBe('open');
    expect(fleet.find((f) => f.modelId === LLAMA)?.rate).toBeDefined();

    await worker.close({ deadlineMs: 5_000 }); // writes its last fleet stat window
    const byNode = await Promise.all(
      dataNodes(admin).map(async (node) => ({ node, keys: await node.keys(`${ctx.prefix}*`) })),
    );
    const holding = byNode.filter((n) => n.keys.length > 0);
    expect(holding).toHaveLength(1);
    const [{ node, keys: all }] = holding as [(typeof holding)[number]];
    const slots = new Set(await Promise.all(all.map((k) => node.cluster('KEYSLOT', k))));
    expect(slots.size).toBe(1);
    // Every kind of key the service writes was there: BullMQ's, results, batch, limiter, breaker, stats.
    for (const part of [':jobs:', ':result:', ':batch:cl', ':results', ':rl:', ':br:', ':stats:'])
      expect(
        all.some((k) => k.includes(part)),
        part,
      ).toBe(true);
  }, 120_000);
});
