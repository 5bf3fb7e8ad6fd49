import type { ResolvedModel } from '../models/catalog.js';
import type { ModelRequest } from '../models/request.js';
import type { AttemptRecord } from './attempt.js';
import type { ExecuteOptions, PolicyParts } from './policy-options.js';
import { reservationTokens } from './ratelimit.js';
import { circuitOpen, refuse, type TryFailure } from './try-outcome.js';

/** Leave to call: whether this worker makes the fleet's half-open probe, and the tokens it reserved. */
export interface Cleared {
  ok: true;
  probe: boolean;
  /** Fleet tokens reserved for the call (0 without a limiter). */
  reserved: number;
}

/**
 * Everything before one call of a model: the fleet breaker's verdict, this worker's breaker,
 * and a slot of the fleet rate limiter, waited for up to `maxWaitMs` (`spillWaitMs` with
 * spill). A refusal after the slot was reserved gives the slot back.
 */
export async function clearForCall(
  parts: PolicyParts,
  model: ResolvedModel,
  request: ModelRequest,
  { signal, limiter, spill, wake }: ExecuteOptions,
  attempts: AttemptRecord[],
): Promise<Cleared | TryFailure> {
  if (signal?.aborted) {
    return refuse(parts, 'timeout', 'job aborted before the call', attempts, { aborted: true });
  }
  const { modelId, breaker, fleet, runtime, clock, guard } = parts;
  // The fleet's verdict first: a model another worker found dead is not called here either,
  // and of all workers only the one holding the probe calls it when it half-opens.
  let probe = false;
  if (fleet) {
    const verdict = await fleet.check(modelId);
    if (verdict.state === 'open') {
      const message = `circuit open for ${modelId} across the fleet; next probe in ${verdict.retryAfterMs} ms`;
      return refuse(parts, 'circuit_open', message, attempts, { retryAfterMs: verdict.retryAfterMs });
    }
    probe = verdict.state === 'probe';
    // Closed for the fleet, read after this breaker opened: another worker's probe found the
    // model well. (A verdict read before the opening is older news than the breaker.)
    const opened = breaker.openedAt;
    if (verdict.state === 'closed' && opened !== undefined && verdict.readAt > opened) breaker.reset();
  }
  if (!probe && breaker.rejecting) return circuitOpen(parts, attempts);

  const reserved = limiter ? reservationTokens(model, request) : 0;
  if (limiter) {
    const maxWaitMs = spill === true ? runtime.spillWaitMs : runtime.maxWaitMs;
    const slot = await limiter.reserve(modelId, reserved, maxWaitMs);
    if (!slot.ok) {
      const message = `fleet rate for ${modelId}: next slot in ${slot.retryAfterMs} ms`;
      return refuse(parts, 'rate_limited', message, attempts, { retryAfterMs: slot.retryAfterMs });
    }
    if (slot.delayMs > 0) {
      guard.notify((ev) => ev.emit('rateLimited', { modelId, waitMs: slot.delayMs }));
      try {
        await clock.sleep(slot.delayMs, signal && wake ? AbortSignal.any([signal, wake]) : (signal ?? wake));
      } catch {
        await guard.refund(limiter, reserved, 1);
        if (!signal?.aborted) {
          const message = `gave its slot for ${modelId} back: an earlier model of the chain may take the call`;
          return refuse(parts, 'rate_limited', message, attempts, { retryAfterMs: 0, woken: true });
        }
        return refuse(parts, 'timeout', 'job aborted while waiting for its slot', attempts, {
          aborted: true,
        });
      }
    }
    if (!probe && breaker.rejecting) {
      await guard.refund(limiter, reserved, 1);
      return circuitOpen(parts, attempts);
    }
  }
  return { ok: true, probe, reserved };
}
