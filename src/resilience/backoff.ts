import type { ModelErrorKind } from '../models/errors.js';
import type { Random } from '../random.js';

export interface BackoffInput {
  /** 0 for the wait before the second call, 1 before the third, ... */
  attempt: number;
  /** Why the last call failed; `throttled` backs off from a larger base. */
  kind: ModelErrorKind;
  /** From the service's `retry-after` header or our rate limiter, when known. */
  retryAfterMs?: number | undefined;
  rand: Random;
  baseDelayMs: number;
  throttleBaseDelayMs: number;
  maxDelayMs: number;
}

/**
 * The wait before the next call to the same model: exponential backoff with full jitter,
 * `rand() × min(maxDelayMs, base × 2^attempt)`, where `base` is `throttleBaseDelayMs` after a
 * throttle (the quota refills per minute, so short waits just throttle again) and
 * `baseDelayMs` otherwise. A `retry-after` is a lower bound, itself capped at `maxDelayMs`.
 * Full jitter spreads a fleet's retries so they do not arrive together.
 * @returns whole milliseconds, 0 ≤ result ≤ maxDelayMs.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function nextDelayMs(input: BackoffInput): number {
  const base = input.kind === 'throttled' ? input.throttleBaseDelayMs : input.baseDelayMs;
  const ceiling = Math.min(input.maxDelayMs, base * 2 ** Math.max(0, input.attempt));
  const jittered = Math.floor(input.rand() * ceiling);
  const floor =
    input.retryAfterMs === undefined ? 0 : Math.min(Math.max(0, input.retryAfterMs), input.maxDelayMs);
  return Math.max(jittered, Math.ceil(floor));
}
