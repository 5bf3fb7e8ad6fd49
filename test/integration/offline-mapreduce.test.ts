import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../src/models/catalog.js';
import { batchCostUsd, costUsd } from '../../src/models/info.js';
import { estimateTokens } from '../../src/models/tokens.js';
import { offlineView } from '../../src/offline/view.js';
import { batchStatus } from '../../src/queue/batch-status.js';
import { keysFor } from '../../src/redis/keys.js';
import { chunkDocument } from '../../src/summarize/chunk.js';
import { chunkBudget } from '../../src/summarize/plan.js';
import { startOfflineLane } from '../helpers/offline.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({
  models: { '*': { rpm: 1e9, tpm: 1e12 } },
  batch: { submittedMs: 0, validatingMs: 0, scheduledMs: 0, perRecordMs: 0 },
});

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const haiku = new ModelCatalog().resolve(HAIKU)!;

/** Korean contract text of about 205k Claude tokens: more than Claude 3 Haiku's window in one call. */
const huge = readFileSync(
  join(import.meta.dirname, '..', '..', 'examples', 'corpus', '217-ko-contract-huge.txt'),
  'utf8',
);
const long = (n: number) =>
  `사본 ${n}. ${huge.slice(0, Math.floor(huge.length * (205_000 / estimateTokens(huge, 'anthropic'))))}`;
const contract = (i: number) =>
  `Contract ${i}. The supplier delivers ${i + 1} units to the buyer by 1 March 2027. The buyer pays ${100 + i} EUR within 30 days.`;

/** 100 short contracts and two documents that need a summary in parts, all on Claude 3 Haiku. */
function batchJobs() {
  const short = Array.from({ length: 100 }, (_, i) => ({
    id: `doc-${String(i).padStart(3, '0')}`,
    task: 'summarize' as const,
    document: contract(i),
    models: [HAIKU],
  }));
  const parts = [0, 1].map((n) => ({
    id: `long-${n}`,
    task: 'summarize' as const,
    document: long(n),
    models: [HAIKU],
  }));
  return { short, parts, all: [...short, ...parts] };
}
const chunksOf = (document: string) => chunkDocument(document, haiku.family, chunkBudget(haiku, 512)).length;

describe('summaries in parts on the offline lane', () => {
  it('sends the chunks offline with their siblings and merges each document online once all its chunks are back', async () => {
    const lane = await startOfflineLane(ctx, pipe);
    const { short, parts, all } = batchJobs();
    const chunks = parts.map((p) => chunksOf(p.document));

    await lane.producer.enqueueBatch(all, { batchId: 'mixed', lane: 'offline' });
    const counters = await lane.producer.waitForBatch('mixed', { pollMs: 200 });
    await expect
      .poll(async () => (await offlineView(ctx.redis, keysFor(ctx.prefix), 'mixed'))?.done)
      .toBe(true);
    const results = await lane.store.getMany(all.map((j) => j.id));
    const view = await offlineView(ctx.redis, keysFor(ctx.prefix), 'mixed');
    const status = await batchStatus(ctx.redis, keysFor(ctx.prefix), lane.store, 'mixed');
    const stats = pipe.sim.admin.stats();

    expect(chunks.every((n) => n >= 2)).toBe(true);
    expect(counters).toMatchObject({ total: 102, completed: 102, failed: 0 });
    // One invocation job holds the short documents' calls and every chunk.
    expect(stats.batch.models[HAIKU]).toMatchObject({
      jobsCreated: 1,
      recordsSucceeded: 100 + chunks[0]! + chunks[1]!,
    });
    expect(view?.invocationJobs).toEqual([
      expect.objectContaining({ modelId: HAIKU, records: 100 + chunks[0]! + chunks[1]!, online: 0 }),
    ]);
    // On demand: one merge per long document, nothing else.
    expect(stats.total.ok).toBe(2);
    for (const r of results.slice(0, short.length))
      expect(r).toMatchObject({ status: 'completed', lane: 'offline' });
    for (const [i, r] of results.slice(short.length).entries()) {
      expect(r).toMatchObject({ status: 'completed', lane: 'offline', modelId: HAIKU });
      expect(r?.text?.length).toBeGreaterThan(0);
      // Each chunk's record, then the merge call.
      expect(r?.attempts.map((a) => a.outcome)).toEqual([...Array(chunks[i]).fill('ok'), 'ok']);
      // Chunks at the batch price, the merge on demand; online every call would have cost more.
      expect(r!.costUsd).toBeGreaterThan(batchCostUsd(haiku.info, r!.usage) * 0.99);
      expect(r!.costUsd).toBeLessThan(costUsd(haiku.info, r!.usage) * 0.75);
      expect(r!.onlineCostUsd).toBeCloseTo(costUsd(haiku.info, r!.usage), 10);
    }
    expect(status?.lanes.offline).toMatchObject({ completed: 102, failed: 0 });
    expect(status?.lanes.online).toMatchObject({ completed: 0 });
    // Nothing is left behind: the chunks kept for the merges are gone with the split stages.
    expect(await ctx.redis.keys(`${ctx.prefix}:lane:mixed:chunks:*`)).toEqual([]);
    expect(await ctx.redis.keys(`${ctx.prefix}:split:*`)).toEqual([]);
  }, 120_000);

  it('summarizes a document online whole when one of its chunks came back with an error', async () => {
    const lane = await startOfflineLane(ctx, pipe);
    const { parts, all } = batchJobs();
    const chunks = parts.map((p) => chunksOf(p.document));
    // Records are in job id order: the short documents, then long-0's chunks. Its first one fails.
    pipe.sim.admin.addFault({ model: HAIKU, batch: { recordIdPattern: '^R0000000100$' } });

    await lane.producer.enqueueBatch(all, { batchId: 'chunk-error', lane: 'offline' });
    const counters = await lane.producer.waitForBatch('chunk-error', { pollMs: 200 });
    await expect
      .poll(async () => (await offlineView(ctx.redis, keysFor(ctx.prefix), 'chunk-error'))?.done)
      .toBe(true);
    const [failedDoc, merged] = await lane.store.getMany(['long-0', 'long-1']);
    const view = await offlineView(ctx.redis, keysFor(ctx.prefix), 'chunk-error');

    expect(counters).toMatchObject({ total: 102, completed: 102, failed: 0 });
    // long-0 ran online whole: its chunks as parts, then its merge; long-1 merged its offline chunks.
    expect(failedDoc).toMatchObject({ status: 'completed', lane: 'online' });
    expect(failedDoc?.onlineCostUsd).toBeUndefined();
    expect(merged).toMatchObject({ status: 'completed', lane: 'offline' });
    // On demand: long-0's parts and merge (its parts as many as the online path cut it into),
    // and long-1's merge.
    const onlineOk = failedDoc?.attempts.filter((a) => a.outcome === 'ok').length ?? 0;
    expect(onlineOk).toBeGreaterThanOrEqual(3);
    expect(pipe.sim.admin.stats().total.ok).toBe(onlineOk + 1);
    expect(view?.invocationJobs[0]).toMatchObject({ online: 1, offline: 100 + chunks[0]! - 1 + chunks[1]! });
    expect(await ctx.redis.keys(`${ctx.prefix}:lane:chunk-error:chunks:*`)).toEqual([]);
  }, 120_000);

  it('reads a part back again after a crash without a second merge, result or leftover key', async () => {
    const lane = await startOfflineLane(ctx, pipe);
    const keys = keysFor(ctx.prefix);
    const { all } = batchJobs();
    await lane.producer.enqueueBatch(all, { batchId: 'replayed', lane: 'offline' });
    await lane.producer.waitForBatch('replayed', { pollMs: 200 });
    await expect.poll(async () => (await offlineView(ctx.redis, keys, 'replayed'))?.done).toBe(true);
    const before = { results: await ctx.redis.xlen(keys.results), calls: pipe.sim.admin.stats().total.ok };
    const merged = await lane.store.get('long-1');

    // As if the coordinator had died after reading the part back, before it recorded that it had.
    const part = JSON.parse((await ctx.redis.hget(keys.offline('replayed'), 'part:0'))!) as Record<
      string,
      unknown
    >;
    await ctx.redis.hset(
      keys.offline('replayed'),
      'part:0',
      JSON.stringify({ ...part, collected: false, offline: 0 }),
    );
    await ctx.redis.hdel(keys.offline('replayed'), 'doneAt');
    await lane.producer.sealBatch('replayed');
    await expect
      .poll(async () => (await offlineView(ctx.redis, keys, 'replayed'))?.done, { timeout: 30_000 })
      .toBe(true);

    expect(await ctx.redis.xlen(keys.results)).toBe(before.results);
    expect(pipe.sim.admin.stats().total.ok).toBe(before.calls);
    expect(await lane.store.get('long-1')).toEqual(merged);
    expect(await ctx.redis.llen(keys.batchResults('replayed'))).toBe(102);
    expect(await ctx.redis.keys(`${ctx.prefix}:lane:replayed:chunks:*`)).toEqual([]);
    expect(await ctx.redis.keys(`${ctx.prefix}:split:*`)).toEqual([]);
  }, 120_000);
});
