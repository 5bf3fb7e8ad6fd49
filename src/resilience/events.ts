import { EventEmitter } from 'node:events';
import type { ModelErrorKind } from '../models/errors.js';
import type { Usage } from '../models/request.js';
import type { AttemptOutcome, AttemptRecord } from './attempt.js';

/**
 * What the resilience pipeline reports as it runs. The pipeline only emits; the shell
 * (worker, API) logs and counts. Payloads carry ids and numbers, never prompt text.
 */
export interface ResilienceEvents {
  /** A model's breaker opened: calls to it fail at once until `halfOpenAt`. */
  open: [{ modelId: string; kind: ModelErrorKind | 'unknown'; halfOpenAt: number }];
  /** A probe call is let through an open breaker. */
  halfOpen: [{ modelId: string }];
  /** A probe succeeded; the model takes calls again. */
  close: [{ modelId: string }];
  /** One call to a model ended (or was refused before the call). */
  attempt: [AttemptRecord];
  /**
   * A call reached the model and ended: `ok` with the tokens the answer used, or the kind it
   * failed with. Refusals made without a call (open circuit, fleet rate, full bulkhead) are
   * `attempt`s only.
   */
  call: [CallEvent];
  /** The policy will call the same model again after `delayMs`. */
  retry: [{ modelId: string; attempt: number; kind: ModelErrorKind; delayMs: number }];
  /** The fleet-wide rate limiter asked this worker to wait before calling the model. */
  rateLimited: [{ modelId: string; waitMs: number }];
  /** The chain gave up on `from` and moves on to `to`. */
  fallback: [{ from: string; to: string; outcome: AttemptOutcome }];
  /**
   * A step of the policy's bookkeeping around a call failed (Redis lost, a listener that
   * threw); the call's own outcome stands. See {@link BookkeepingStep}.
   */
  bookkeepingFailed: [BookkeepingFailure];
}

/**
 * Bookkeeping the policy does around a call, none of which may change its outcome: `refund`
 * (reserved fleet tokens given back), `throttled` (a throttle reported to the fleet limiter),
 * `probe` (the fleet told how its probe went), `breaker` (this worker's breaker or bulkhead
 * recording an answer), `event` (a listener of this bus).
 */
export type BookkeepingStep = 'refund' | 'throttled' | 'probe' | 'breaker' | 'event';

/** One failed bookkeeping step: which model, which step, and what it threw. */
export interface BookkeepingFailure {
  modelId: string;
  step: BookkeepingStep;
  error: unknown;
}

/** One call that reached a model: how it ended, how long it took (ms), and an answer's usage. */
export interface CallEvent {
  modelId: string;
  outcome: 'ok' | ModelErrorKind;
  latencyMs: number;
  /** Present on `ok`. */
  usage?: Usage;
}

/** The typed event bus shared by breakers, policies and chains of one process. */
export type ResilienceEmitter = EventEmitter<ResilienceEvents>;

/** A new, empty event bus. */
export function createResilienceEvents(): ResilienceEmitter {
  const events = new EventEmitter<ResilienceEvents>();
  // Every job waiting on a later model of its chain listens for an earlier breaker closing:
  // as many listeners as jobs in flight is the design, not a leak.
  events.setMaxListeners(0);
  return events;
}
