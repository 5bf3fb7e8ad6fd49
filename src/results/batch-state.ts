import { type CallbackOn, CallbackOnSchema } from '../callbacks/options.js';
import type { BatchCounters } from './record.js';

/** Where a batch's callback stands; `waiting` until the batch is done. */
export interface CallbackState {
  on: CallbackOn;
  status: 'waiting' | 'pending' | 'delivered' | 'failed';
  /** POSTs made for the `batch.done` delivery so far. */
  attempts: number;
  /** What went wrong on the last failed attempt (`HTTP 503`, `no answer within 10000 ms`, ...). */
  lastError?: string;
  /** With `on: failed-and-done`: `job.failed` deliveries that ended delivered or failed for good. */
  failedJobs?: { delivered: number; failed: number };
}

/** Results of one lane of a batch and what they cost. */
export interface LaneCounters {
  completed: number;
  failed: number;
  costUsd: number;
}

/** A batch's results per lane; the offline lane also says what it would have cost online. */
export interface LaneTotals {
  online: LaneCounters;
  offline: LaneCounters & { onlineCostUsd: number };
}

/** A batch's counters with whether more jobs may come, whether it is done, and its callback. */
export interface BatchState extends BatchCounters {
  /** False while a producer may still add jobs (`open: true`, or an enqueue in progress). */
  sealed: boolean;
  /** Sealed and `completed + failed == total`; final. */
  done: boolean;
  /** When it became done (ISO 8601). */
  finishedAt?: string;
  /** The results-stream entry that marked it done: the id of its `done` event. */
  doneEventId?: string;
  callback?: CallbackState;
  /** Results and cost per lane (results written before lanes existed count in neither). */
  lanes: LaneTotals;
}

const STATUSES = new Set<CallbackState['status']>(['pending', 'delivered', 'failed']);

function count(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Sums of floats kept by HINCRBYFLOAT, rounded to what a price can mean. */
const usd = (value: string | undefined): number => Math.round(count(value) * 1e9) / 1e9;

/** Per-lane totals of a batch with no results. */
export function noLanes(): LaneTotals {
  return lanesOf({});
}

function lanesOf(h: Readonly<Record<string, string>>): LaneTotals {
  const lane = (name: 'online' | 'offline'): LaneCounters => ({
    completed: count(h[`${name}:completed`]),
    failed: count(h[`${name}:failed`]),
    costUsd: usd(h[`${name}:costUsd`]),
  });
  return {
    online: lane('online'),
    offline: { ...lane('offline'), onlineCostUsd: usd(h['offline:onlineCostUsd']) },
  };
}

/** The counters alone, as `getBatch` and `waitForBatch` report them. */
export function countersOf(s: BatchCounters): BatchCounters {
  return { batchId: s.batchId, total: s.total, completed: s.completed, failed: s.failed };
}

/**
 * Reads a batch hash (`keys.batch(id)`, as HGETALL returns it); undefined when it has none of
 * the counters (never enqueued, or expired). The layout is written by the claim, save, seal
 * and callback scripts.
 */
export function parseBatchState(
  batchId: string,
  h: Readonly<Record<string, string>>,
): BatchState | undefined {
  if (h.total === undefined && h.completed === undefined && h.failed === undefined) return undefined;
  const counters = { batchId, total: count(h.total), completed: count(h.completed), failed: count(h.failed) };
  // No `sealed` field: written before batches could stay open, so sealed.
  const sealed = h.sealed !== '0';
  const state: BatchState = {
    ...counters,
    sealed,
    done: h.doneAt !== undefined || (sealed && counters.completed + counters.failed >= counters.total),
    lanes: lanesOf(h),
  };
  if (h.doneAt !== undefined) state.finishedAt = new Date(count(h.doneAt)).toISOString();
  if (h.doneEventId !== undefined) state.doneEventId = h.doneEventId;
  const on = CallbackOnSchema.safeParse(h.callbackOn);
  if (h.callbackUrl !== undefined && on.success) {
    const status = h.callbackStatus as CallbackState['status'] | undefined;
    state.callback = {
      on: on.data,
      status: status && STATUSES.has(status) ? status : 'waiting',
      attempts: count(h.callbackAttempts),
      ...(h.callbackLastError ? { lastError: h.callbackLastError } : {}),
      ...(on.data === 'failed-and-done'
        ? { failedJobs: { delivered: count(h.callbackJobsDelivered), failed: count(h.callbackJobsFailed) } }
        : {}),
    };
  }
  return state;
}
