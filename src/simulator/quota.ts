import type { Admission, CallContext, Reservation } from './control.js';
import { simError } from './control.js';

const MINUTE_MS = 60_000;

/** Per-minute quotas of one model (on-demand) before the cross-region multiplier. */
export interface QuotaLimits {
  rpm: number;
  tpm: number;
}

/**
 * A bucket that holds at most `capacity` and refills continuously, `capacity` per window.
 * Times are real milliseconds from the injected clock; the window is already scaled.
 */
export class TokenBucket {
  private level: number;
  private updatedAt: number;

  constructor(
    private capacityValue: number,
    private readonly windowMs: number,
    now: number,
  ) {
    this.level = capacityValue;
    this.updatedAt = now;
  }

  get capacity(): number {
    return this.capacityValue;
  }

  /** What the bucket holds at `now` (may be negative after a call used more than it reserved). */
  available(now: number): number {
    if (now > this.updatedAt) {
      const refill = ((now - this.updatedAt) * this.capacityValue) / this.windowMs;
      this.level = Math.min(this.capacityValue, this.level + refill);
      this.updatedAt = now;
    }
    return this.level;
  }

  /** Takes `amount` unconditionally; callers check {@link available} first. */
  take(amount: number): void {
    this.level -= amount;
  }

  /** Gives `amount` back (or takes more when negative), never above capacity. */
  give(amount: number): void {
    this.level = Math.min(this.capacityValue, this.level + amount);
  }

  /** A new quota from now on; what the bucket holds is kept, but never above the new capacity. */
  resize(capacity: number, now: number): void {
    this.available(now);
    this.capacityValue = capacity;
    this.level = Math.min(capacity, this.level);
  }
}

/** What {@link Quotas} needs from its owner: time, scale and the current limits. */
export interface QuotaOptions {
  /** Real milliseconds, monotonic. */
  clock: () => number;
  /** Quota windows last `60 s / timeScale` of real time. */
  timeScale: number;
  /** A cross-region profile's quota is the on-demand quota times this. */
  profileMultiplier: number;
  /** Current on-demand limits of a base model id (may change at run time). */
  limits: (baseId: string) => QuotaLimits;
}

/** The bucket key: the base id for on-demand calls, `<geo>.<base id>` for a cross-region profile. */
export function quotaKey(ctx: Pick<CallContext, 'baseId' | 'geo'>): string {
  return ctx.geo ? `${ctx.geo}.${ctx.baseId}` : ctx.baseId;
}

const TOO_MANY_REQUESTS = 'Too many requests, please wait before trying again.';
const TOO_MANY_TOKENS = 'Too many tokens, please wait before trying again.';

interface Pair {
  rpm: TokenBucket;
  tpm: TokenBucket;
}

/**
 * Bedrock's per-model RPM and TPM quotas (`docs/bedrock-wire.md#quotas-and-throttling`) as two token buckets per key.
 * A call is charged one request and `input + max output` tokens up front; a refused call is
 * charged nothing; {@link Quotas.settle} gives back what the call reserved but did not use.
 * Cross-region profiles (`us.`, `eu.`, ...) have their own buckets, `profileMultiplier`
 * times larger (`docs/bedrock-wire.md#inference-profiles`).
 */
export class Quotas {
  private readonly buckets = new Map<string, Pair>();
  private readonly windowMs: number;

  constructor(private readonly options: QuotaOptions) {
    this.windowMs = MINUTE_MS / options.timeScale;
  }

  /** The limits in force for a key: on-demand, or multiplied for a profile. */
  limitsFor(ctx: Pick<CallContext, 'baseId' | 'geo'>): QuotaLimits {
    const base = this.options.limits(ctx.baseId);
    const k = ctx.geo ? this.options.profileMultiplier : 1;
    return { rpm: base.rpm * k, tpm: base.tpm * k };
  }

  private pair(ctx: Pick<CallContext, 'baseId' | 'geo'>, now: number): Pair {
    const key = quotaKey(ctx);
    const { rpm, tpm } = this.limitsFor(ctx);
    let pair = this.buckets.get(key);
    if (!pair) {
      pair = { rpm: new TokenBucket(rpm, this.windowMs, now), tpm: new TokenBucket(tpm, this.windowMs, now) };
      this.buckets.set(key, pair);
    } else {
      if (pair.rpm.capacity !== rpm) pair.rpm.resize(rpm, now);
      if (pair.tpm.capacity !== tpm) pair.tpm.resize(tpm, now);
    }
    return pair;
  }

  /**
   * Admits or refuses one call. RPM is checked first, as Bedrock answers "Too many requests"
   * before "Too many tokens".
   */
  admit(ctx: CallContext): Admission {
    const now = this.options.clock();
    const pair = this.pair(ctx, now);
    // A call larger than the whole TPM quota could never pass: it is charged a full bucket.
    const tokens = Math.min(ctx.inputTokens + ctx.maxOutputTokens, pair.tpm.capacity);
    if (pair.rpm.available(now) < 1)
      return { ok: false, error: simError('ThrottlingException', TOO_MANY_REQUESTS) };
    if (pair.tpm.available(now) < tokens)
      return { ok: false, error: simError('ThrottlingException', TOO_MANY_TOKENS) };
    pair.rpm.take(1);
    pair.tpm.take(tokens);
    return { ok: true, reservation: { key: quotaKey(ctx), reservedTokens: tokens } };
  }

  /**
   * Corrects the up-front TPM charge to what the call used (input + output tokens): unused
   * tokens go back, a call that used more than it reserved is charged the rest.
   */
  settle(reservation: Reservation, actualTokens: number): void {
    this.buckets.get(reservation.key)?.tpm.give(reservation.reservedTokens - actualTokens);
  }

  /** What each key's buckets hold now, for `/_sim/stats`. */
  levels(): Record<string, { requests: number; tokens: number }> {
    const now = this.options.clock();
    const out: Record<string, { requests: number; tokens: number }> = {};
    for (const [key, pair] of this.buckets)
      out[key] = {
        requests: Math.floor(pair.rpm.available(now)),
        tokens: Math.floor(pair.tpm.available(now)),
      };
    return out;
  }

  /** Every bucket full again. */
  reset(): void {
    this.buckets.clear();
  }
}
