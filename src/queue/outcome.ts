import { WaitingChildrenError } from 'bullmq';
import type { AttemptRecord } from '../resilience/attempt.js';
import {
  AllModelsBusyError,
  ChainAbortedError,
  ChainExhaustedError,
  InvalidJobError,
} from '../resilience/errors.js';
import { PartFailedError } from './split.js';

/**
 * What the worker does with an error from running a job, decided from the error's class
 * alone (see `docs/architecture.md#failure-kinds`):
 *
 * - `waitChildren`: BullMQ parked the job until its parts finish; nothing to do;
 * - `busy`: every model is throttled or open, the first again in `waitMs`; pause the queue
 *   for `pauseMs` and let the job wait without spending an attempt;
 * - `handBack`: shutdown aborted the chain; the job goes back to the queue untouched;
 * - `fail`: the job is invalid or every model failed; it fails for good with `message`;
 * - `retry`: anything else (Redis down, a bug); BullMQ retries the job, and on its
 *   `lastAttempt` a failed result is written first so a batch always finishes.
 */
export type FailureOutcome =
  | { action: 'waitChildren' }
  | { action: 'busy'; waitMs: number; pauseMs: number }
  | { action: 'handBack' }
  | { action: 'fail'; message: string; attempts: AttemptRecord[] }
  | { action: 'retry'; message: string; lastAttempt: boolean };

/** What the mapping needs to know about the job and the worker. */
export interface FailureContext {
  /** BullMQ attempts made before this one. */
  attemptsMade: number;
  /** BullMQ attempts the job may make in all. */
  attempts: number;
  /** `worker.busyBackoffMs`: the queue is paused at most five times this long, so other chains can run. */
  busyBackoffMs: number;
}

/** Maps an error thrown while running a job to what the worker does next. Never throws. */
export function failureOutcome(error: unknown, ctx: FailureContext): FailureOutcome {
  if (error instanceof WaitingChildrenError) return { action: 'waitChildren' };
  if (error instanceof AllModelsBusyError) {
    // The pause holds the whole queue, so it is capped: jobs of other chains may be able to run.
    return { action: 'busy', waitMs: error.waitMs, pauseMs: Math.min(error.waitMs, 5 * ctx.busyBackoffMs) };
  }
  if (error instanceof ChainAbortedError) return { action: 'handBack' };
  if (
    error instanceof InvalidJobError ||
    error instanceof ChainExhaustedError ||
    error instanceof PartFailedError
  ) {
    return { action: 'fail', message: error.message, attempts: error.attempts };
  }
  return {
    action: 'retry',
    message: `worker error: ${error instanceof Error ? error.message : String(error)}`,
    lastAttempt: ctx.attemptsMade + 1 >= ctx.attempts,
  };
}
