import type { ModelReply } from '../models/request.js';
import type { AttemptOutcome, AttemptRecord } from './attempt.js';
import { PolicyFailure } from './errors.js';
import type { PolicyParts } from './policy-options.js';

/** One try of a model that did not answer: why, and whether the policy may try it again. */
export type TryFailure = { ok: false; failure: PolicyFailure; retryable: boolean };

/** How one try of a model ended: its answer, or a failure. */
export type TryOutcome = { ok: true; reply: ModelReply } | TryFailure;

/** A refusal before any call: recorded with no latency, never retried here. */
export function refuse(
  { modelId, guard }: PolicyParts,
  outcome: Exclude<AttemptOutcome, 'ok'>,
  message: string,
  attempts: AttemptRecord[],
  details: { retryAfterMs?: number; aborted?: boolean; woken?: boolean } = {},
): TryFailure {
  guard.record(attempts, { modelId, outcome, message, latencyMs: 0 });
  return {
    ok: false,
    failure: new PolicyFailure(modelId, outcome, message, attempts, details),
    retryable: false,
  };
}

/** The refusal of this worker's open breaker, with the wait until its probe. */
export function circuitOpen(parts: PolicyParts, attempts: AttemptRecord[]): TryFailure {
  const waitMs = parts.breaker.msUntilHalfOpen();
  const message = `circuit open for ${parts.modelId}; next probe in ${waitMs} ms`;
  return refuse(parts, 'circuit_open', message, attempts, { retryAfterMs: waitMs });
}
