import type { Job, Queue } from 'bullmq';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { ResultStore } from '../results/store.js';
import { SECOND } from '../units.js';

/** What the sweep needs: the queue whose failed set it reads and where results go. */
export interface QueueFailureDeps {
  queue: Queue;
  /** Our own connection, for the failed set's scores. */
  redis: RedisClient;
  store: ResultStore;
  logger: Logger;
}

/** Failed jobs read per round trip. */
const PAGE = 200;
/** How far workers' clocks may disagree. */
const CLOCK_SKEW_MS = 60 * SECOND;

/**
 * Writes a failed result for every job BullMQ failed without our processor: stalled more often
 * than `worker.maxStalledCount` (a worker crash loop), a lost lock, attempts spent outside the
 * processor. Such a job would otherwise have no result and its batch would never end. The
 * store's exactly-once script makes the sweep safe to run from every worker at once, and a
 * job the processor failed (it already has its result) is left alone.
 *
 * Reads the failed set from the newest finish time seen (less a margin for clock skew)
 * onwards, so each sweep costs what failed since.
 */
export function createQueueFailureSweep(deps: QueueFailureDeps): { sweep(): Promise<number> } {
  const failedKey = deps.queue.toKey('failed');
  let since = Number.NEGATIVE_INFINITY;
  return {
    /** One pass; returns how many results it wrote. */
    async sweep() {
      let written = 0;
      let newest = since;
      for (let offset = 0; ; offset += PAGE) {
        const page = await deps.redis.zrangebyscore(
          failedKey,
          Number.isFinite(since) ? since : '-inf',
          '+inf',
          'WITHSCORES',
          'LIMIT',
          offset,
          PAGE,
        );
        for (let i = 0; i < page.length; i += 2) {
          const job = await deps.queue.getJob(page[i]!);
          if (job && (await recordFailure(job, deps))) written++;
          newest = Math.max(newest, Number(page[i + 1]));
        }
        if (page.length < 2 * PAGE) break;
      }
      // Scores are finish times from each worker's own clock: look back a while next time, so a
      // worker whose clock runs behind is not missed (jobs with results are skipped).
      if (Number.isFinite(newest)) since = newest - CLOCK_SKEW_MS;
      return written;
    },
  };
}

/** The failed result of one job, unless it has one or is a part of a split document. */
async function recordFailure(job: Job, deps: QueueFailureDeps): Promise<boolean> {
  // Parts of a split document fail their document (BullMQ's failParentOnFailure): the
  // document's own entry carries the result.
  if (job.parent) return false;
  // Read after its id came off the failed set: a retry on purpose may have replaced the failed
  // job with a new one of the same id since, which has not finished.
  if (!job.finishedOn) return false;
  const data = (job.data ?? {}) as { id?: unknown; batchId?: unknown; enqueuedAt?: unknown; retry?: unknown };
  const id = typeof data.id === 'string' && data.id !== '' ? data.id : job.id;
  const generation = typeof data.retry === 'number' && data.retry > 0 ? data.retry : 0;
  if (!id) return false;
  // A failed result of an older generation is one a retry on purpose queued this job to replace.
  const existing = await deps.store.get(id);
  if (existing && (existing.retry ?? 0) >= generation) return false;
  const at = (ms: number | undefined, fallback: string): string =>
    ms !== undefined && Number.isFinite(ms) ? new Date(ms).toISOString() : fallback;
  const finishedAt = at(job.finishedOn, new Date().toISOString());
  const enqueuedAt =
    typeof data.enqueuedAt === 'string' && !Number.isNaN(Date.parse(data.enqueuedAt))
      ? data.enqueuedAt
      : at(job.timestamp, finishedAt);
  const reason = job.failedReason || 'failed by the queue';
  const saved = await deps.store.save({
    id,
    batchId: typeof data.batchId === 'string' && data.batchId !== '' ? data.batchId : null,
    status: 'failed',
    text: null,
    stopReason: null,
    modelId: null,
    attempts: [],
    usage: { inputTokens: 0, outputTokens: 0 },
    costUsd: 0,
    lane: 'online',
    enqueuedAt,
    startedAt: at(job.processedOn, enqueuedAt),
    finishedAt,
    error: `the queue failed the job without running it to the end: ${reason}`,
    errorKind: 'worker_error',
    // Of the generation the job carries: stale, and refused, if a retry on purpose superseded it.
    ...(generation > 0 ? { retry: generation } : {}),
  });
  if (saved) deps.logger.warn({ jobId: id, reason }, 'job failed by the queue; failed result written');
  return saved;
}
