import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import type { BatchState, CallbackState, LaneTotals } from '../results/batch-state.js';
import type { ResultStore } from '../results/store.js';
import { batchIdPages } from './batch-members.js';

/** Where a batch stands; `waiting`, `active` and `missing` are read from the queue itself. */
export interface BatchStatus {
  batchId: string;
  total: number;
  completed: number;
  failed: number;
  /** False while more jobs may be added (an enqueue with `open: true` not yet sealed). */
  sealed: boolean;
  /** Sealed, and every job has a result. */
  done: boolean;
  /** When it became done (ISO 8601). */
  finishedAt?: string;
  /** The batch's callback and how its delivery stands, when it has one. */
  callback?: CallbackState;
  /**
   * Jobs BullMQ holds that are not running: waiting, prioritized or delayed for a retry; and jobs
   * a retry on purpose is queueing again, whose failed result the batch no longer counts.
   */
  waiting: number;
  /** Jobs running now, including summaries whose parts are running. */
  active: number;
  /**
   * Jobs counted in `total` that have neither a result nor a BullMQ job: an enqueue claimed them
   * and died before adding them (or, for the few milliseconds between the two steps, is adding
   * them now). Enqueueing the batch again adds exactly these.
   */
  missing: number;
  /**
   * Results and cost per lane; the offline lane also says what its results would have cost
   * online (`docs/offline-lane.md#cost`).
   */
  lanes: LaneTotals;
}

/**
 * Counters of a batch plus how its unfinished jobs stand in the queue. Walks the batch's id set
 * (a page of ids per round trip), so it costs one pass over the batch: fine for a status call,
 * too much for a hot path. A batch whose jobs all have results answers from its hash alone.
 */
export async function batchStatus(
  redis: RedisClient,
  keys: Keys,
  store: ResultStore,
  batchId: string,
): Promise<BatchStatus | undefined> {
  const state = await store.state(batchId);
  if (!state) return undefined;
  const status = toStatus(state);
  if (state.completed + state.failed >= state.total) return status;
  // Running jobs are few (workers × concurrency), so their ids are read whole.
  const running = new Set(await redis.lrange(keys.bullActive, 0, -1));
  for await (const ids of batchIdPages(redis, keys, batchId)) {
    const pipe = redis.pipeline();
    for (const id of ids) {
      pipe.exists(keys.result(id));
      pipe.exists(keys.bullJob(id));
      pipe.zscore(keys.bullWaitingChildren, id);
      pipe.hget(keys.batchRetries(batchId), id);
    }
    const replies = (await pipe.exec()) ?? [];
    const queued = (id: string, i: number) => running.has(id) || replies[i * 4 + 2]?.[1] !== null;
    // A result of an id a retry raised the generation of may be the failed one it is replacing.
    const retried: { id: string; i: number; generation: number }[] = [];
    ids.forEach((id, i) => {
      const at = (j: number) => replies[i * 4 + j]?.[1];
      if (at(0) === 1) {
        const generation = Number(at(3) ?? 0);
        if (generation > 0) retried.push({ id, i, generation });
        return;
      }
      if (at(1) === 1) {
        if (queued(id, i)) status.active++;
        else status.waiting++;
      } else status.missing++;
    });
    const results = await store.getMany(retried.map((r) => r.id));
    retried.forEach(({ id, i, generation }, n) => {
      const result = results[n];
      if (result?.status !== 'failed' || (result.retry ?? 0) >= generation) return;
      if (queued(id, i)) status.active++;
      else status.waiting++;
    });
  }
  return status;
}

function toStatus(s: BatchState): BatchStatus {
  return {
    batchId: s.batchId,
    total: s.total,
    completed: s.completed,
    failed: s.failed,
    sealed: s.sealed,
    done: s.done,
    waiting: 0,
    active: 0,
    missing: 0,
    lanes: s.lanes,
    ...(s.finishedAt !== undefined ? { finishedAt: s.finishedAt } : {}),
    ...(s.callback !== undefined ? { callback: s.callback } : {}),
  };
}
