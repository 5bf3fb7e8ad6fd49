import { isBrokenCircuitError, isBulkheadRejectedError, isTaskCancelledError } from 'cockatiel';
import { classifyError, isRetryableKind } from '../models/errors.js';
import type { ModelReply } from '../models/request.js';
import type { AttemptRecord } from './attempt.js';
import { countsAgainstHealth } from './breaker.js';
import { PolicyFailure } from './errors.js';
import type { PolicyParts } from './policy-options.js';
import type { RateLimiter } from './ratelimit.js';
import { circuitOpen, refuse, type TryOutcome } from './try-outcome.js';

/** What one call of a model carries from before it to what follows it. */
export interface CallContext {
  limiter: RateLimiter | undefined;
  /** Fleet tokens reserved for the call (0 without a limiter). */
  reserved: number;
  /** This worker makes the fleet's half-open probe. */
  probe: boolean;
  signal: AbortSignal | undefined;
  spill: boolean | undefined;
  via: Pick<AttemptRecord, 'api'>;
  attempts: AttemptRecord[];
}

/**
 * The model answered, and the answer is paid for: none of the bookkeeping here may turn it
 * into a failure, which would lose it and call a model again for the same job.
 */
export async function answered(
  parts: PolicyParts,
  reply: ModelReply,
  latencyMs: number,
  call: CallContext,
): Promise<TryOutcome> {
  const { modelId, guard } = parts;
  const { limiter, reserved, probe, via, attempts } = call;
  if (probe) await guard.keep('probe', () => probeAnswered(parts, true));
  const used = reply.usage.inputTokens + reply.usage.outputTokens;
  if (limiter && used !== reserved) await guard.refund(limiter, reserved - used);
  guard.record(attempts, { modelId, outcome: 'ok', latencyMs, ...via });
  guard.notify((ev) => ev.emit('call', { modelId, outcome: 'ok', latencyMs, usage: reply.usage }));
  return { ok: true, reply };
}

/** The call did not answer: why, as a failure the chain acts on. Bookkeeping never replaces it. */
export async function failed(
  parts: PolicyParts,
  e: unknown,
  latencyMs: number,
  call: CallContext,
): Promise<TryOutcome> {
  const { modelId, guard } = parts;
  const { limiter, reserved, probe, signal, spill, via, attempts } = call;
  if (isBrokenCircuitError(e)) {
    if (limiter) await guard.refund(limiter, reserved, 1);
    return circuitOpen(parts, attempts);
  }
  if (isBulkheadRejectedError(e)) {
    if (limiter) await guard.refund(limiter, reserved, 1);
    const { maxConcurrent } = parts.config;
    return refuse(
      parts,
      'throttled',
      `worker busy: ${maxConcurrent} calls to ${modelId} in flight and the queue is full`,
      attempts,
    );
  }
  if (isTaskCancelledError(e)) {
    if (limiter) await guard.refund(limiter, reserved, 1);
    return refuse(parts, 'timeout', 'job aborted while waiting for a call slot', attempts, {
      aborted: true,
    });
  }
  const err = classifyError(e, { modelId });
  if (probe && !signal?.aborted)
    await guard.keep('probe', () => probeAnswered(parts, !countsAgainstHealth(err)));
  // A throttle says the fleet's rate is above what Bedrock admits now: slow the whole fleet.
  if (limiter && err.kind === 'throttled') await guard.keep('throttled', () => limiter.throttled(modelId));
  // A failed call used no tokens, except a timeout, where the model may have worked.
  if (limiter && err.kind !== 'timeout') await guard.refund(limiter, reserved);
  const record: AttemptRecord = { modelId, outcome: err.kind, message: err.message, latencyMs, ...via };
  if (err.httpStatus !== undefined) record.httpStatus = err.httpStatus;
  guard.record(attempts, record);
  guard.notify((ev) => ev.emit('call', { modelId, outcome: err.kind, latencyMs }));
  const aborted = signal?.aborted === true;
  const failure = new PolicyFailure(modelId, err.kind, err.message, attempts, {
    retryAfterMs: err.retryAfterMs,
    aborted,
    cause: err,
  });
  // With spill nothing is retried here: the chain's next model may answer now, while a
  // retry would wait out a backoff on a model that just said no (throttled, or unwell).
  const retryable = !aborted && isRetryableKind(err.kind) && spill !== true;
  return { ok: false, failure, retryable };
}

/** Tells the fleet how its probe went; a well model is closed here too. */
async function probeAnswered(
  { modelId, fleet, breaker, config, guard }: PolicyParts,
  well: boolean,
): Promise<void> {
  if (!fleet) return;
  if (well) {
    // A listener of the breaker closing that throws must not keep the fleet from hearing it.
    try {
      breaker.reset();
    } catch (error) {
      guard.failed('event', error);
    }
    await fleet.probeSucceeded(modelId);
  } else {
    await fleet.probeFailed(modelId, config.breaker.halfOpenAfterMs);
  }
}
