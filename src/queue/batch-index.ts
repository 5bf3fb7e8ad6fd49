import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { countersOf, type LaneTotals } from '../results/batch-state.js';
import type { BatchCounters } from '../results/record.js';
import type { ResultStore } from '../results/store.js';

/** A batch of the index of recent batches, with its counters now. */
export interface RecentBatch extends BatchCounters {
  /** When its first job was enqueued (ms since the epoch, Redis time). */
  createdAt: number;
  /** Results and cost per lane, from the same read as the counters. */
  lanes: LaneTotals;
}

/**
 * The newest `limit` batches, newest first, from the capped index the claim script keeps
 * ({@link Keys.batchIndex}). A batch whose counters expired (`resultTtlSeconds`) is left out
 * and dropped from the index.
 */
export async function recentBatches(
  redis: RedisClient,
  keys: Keys,
  store: ResultStore,
  limit: number,
): Promise<RecentBatch[]> {
  const flat = await redis.zrevrange(keys.batchIndex, 0, limit - 1, 'WITHSCORES');
  const out: RecentBatch[] = [];
  const gone: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const batchId = flat[i]!;
    const state = await store.state(batchId);
    if (state) out.push({ ...countersOf(state), createdAt: Number(flat[i + 1]), lanes: state.lanes });
    else gone.push(batchId);
  }
  if (gone.length > 0) await redis.zrem(keys.batchIndex, ...gone);
  return out;
}
