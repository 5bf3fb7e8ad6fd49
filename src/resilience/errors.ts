import type { AttemptOutcome, AttemptRecord } from './attempt.js';

/**
 * The errors a chain ends with. Each steers the worker differently, so each is a class the
 * worker tells apart by type (`queue/outcome.ts`), and each carries every attempt made.
 */

/**
 * The job itself is wrong (`invalid_request`): no model will take it and retrying cannot
 * help. The worker turns it into BullMQ's `UnrecoverableError`.
 */
export class InvalidJobError extends Error {
  override readonly name = 'InvalidJobError';
  constructor(
    message: string,
    readonly attempts: AttemptRecord[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Every model of the chain is busy (throttled or behind an open circuit). The worker calls
 * `queue.rateLimit(waitMs)` and throws `Worker.RateLimitError()`, so the job waits without
 * spending an attempt.
 */
export class AllModelsBusyError extends Error {
  override readonly name = 'AllModelsBusyError';
  constructor(
    /** The shortest wait after which some model of the chain may take calls again. */
    readonly waitMs: number,
    readonly attempts: AttemptRecord[],
  ) {
    super(`every model in the chain is busy; retry in ${waitMs} ms`);
  }
}

/** Every model of the chain failed and at least one not merely for being busy. */
export class ChainExhaustedError extends Error {
  override readonly name = 'ChainExhaustedError';
  constructor(
    readonly attempts: AttemptRecord[],
    /** The last model's failure. */
    readonly lastError: unknown,
  ) {
    const last = attempts.at(-1);
    super(
      last
        ? `every model in the chain failed; last: ${last.modelId} ${last.outcome}${last.message ? `: ${last.message}` : ''}`
        : 'the chain has no model to call',
      { cause: lastError },
    );
  }
}

/** The job's signal aborted (shutdown) while the chain ran; the job goes back to the queue. */
export class ChainAbortedError extends Error {
  override readonly name = 'ChainAbortedError';
  constructor(readonly attempts: AttemptRecord[]) {
    super('the chain was aborted by the job signal');
  }
}

/**
 * A model gave up on this job: retries exhausted, a failure not worth retrying, or a
 * refusal before any call (open circuit, rate limit, full bulkhead).
 */
export class PolicyFailure extends Error {
  override readonly name = 'PolicyFailure';
  constructor(
    readonly modelId: string,
    readonly outcome: Exclude<AttemptOutcome, 'ok'>,
    message: string,
    readonly attempts: AttemptRecord[],
    readonly details: {
      /** When the model may take calls again, if anyone said. */
      retryAfterMs?: number | undefined;
      /** The job's own signal aborted (shutdown): nothing to conclude about the model. */
      aborted?: boolean;
      /** The job gave its slot back because an earlier model of its chain may take it now. */
      woken?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}
