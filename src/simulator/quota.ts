import type { Admission, CallContext, Reservation } from './control.js';
import { simError } from './control.js';

const MINUTE_MS = 60_000;

/** Per-minute quotas of one model (on-demand) before the cross-region multiplier. */
export interface QuotaLimits {
  rpm: number;
  tpm: number;
  /**
   * Over how many simulated seconds the quota is enforced (default 60): the bucket holds one
   * window's share of the quota (`rpm × window / 60`) and refills at the quota's rate, so a
   * 1-second window refuses a burst that a 60-second window absorbs.
   */
  windowSeconds?: number;
  /** The bucket holds this many windows' worth (default 1): room for a burst. */
  burst?: number;
}

/**
 * A bucket that holds at most `capacity` and refills continuously, `capacity` per `windowMs`
 * unless a refill rate is given. Times are real milliseconds from the injected clock; the
 * window is already scaled.
 */
export class TokenBucket {
  private level: number;
  private updatedAt: number;
  private perMs: number;

  constructor(
    private capacityValue: number,
    windowMs: number,
    now: number,
    refillPerMs?: number,
  ) {
    this.perMs = refillPerMs ?? capacityValue / windowMs;
    this.level = capacityValue;
    this.updatedAt = now;
  }

  get capacity(): number {
    return this.capacityValue;
  }

  /** What the bucket holds at `now` (may be negative after a call used more than it reserved). */
  available(now: number): number {
    if (now > this.updatedAt) {
      const refill = (now - this.updatedAt) * this.perMs;
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
  resize(capacity: number, now: number, refillPerMs?: number): void {
    this.available(now);
    this.capacityValue = capacity;
    if (refillPerMs !== undefined) this.perMs = refillPerMs;
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
  /**
   * The share of a key's quota left to us now (default 1): less while unseen traffic of the
   * same account uses the rest (a `sharedAccount` fault).
   */
  share?: (ctx: Pick<CallContext, 'baseId' | 'geo' | 'modelId'>) => number;
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
  private readonly minuteMs: number;

  constructor(private readonly options: QuotaOptions) {
    this.minuteMs = MINUTE_MS / options.timeScale;
  }

  /** The limits in force for a key: on-demand, or multiplied for a profile. */
  limitsFor(ctx: Pick<CallContext, 'baseId' | 'geo'>): QuotaLimits {
    const base = this.options.limits(ctx.baseId);
    const k = ctx.geo ? this.options.profileMultiplier : 1;
    return { ...base, rpm: base.rpm * k, tpm: base.tpm * k };
  }

  private pair(ctx: Pick<CallContext, 'baseId' | 'geo' | 'modelId'>, now: number): Pair {
    const key = quotaKey(ctx);
    const limits = this.limitsFor(ctx);
    const share = this.options.share?.(ctx) ?? 1;
    // A window's share of the quota, times the burst, refilled at the quota's own rate.
    const windows = ((limits.windowSeconds ?? 60) / 60) * (limits.burst ?? 1);
    // At least one request fits, or a small quota over a short window could never admit any.
    const rpm = {
      capacity: Math.max(1, limits.rpm * share * windows),
      perMs: (limits.rpm * share) / this.minuteMs,
    };
    const tpm = { capacity: limits.tpm * share * windows, perMs: (limits.tpm * share) / this.minuteMs };
    let pair = this.buckets.get(key);
    if (!pair) {
      pair = {
        rpm: new TokenBucket(rpm.capacity, this.minuteMs, now, rpm.perMs),
        tpm: new TokenBucket(tpm.capacity, this.minuteMs, now, tpm.perMs),
      };
      this.buckets.set(key, pair);
    } else {
      if (pair.rpm.capacity !== rpm.capacity) pair.rpm.resize(rpm.capacity, now, rpm.perMs);
      if (pair.tpm.capacity !== tpm.capacity) pair.tpm.resize(tpm.capacity, now, tpm.perMs);
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
