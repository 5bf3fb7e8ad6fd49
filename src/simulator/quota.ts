import type { Admission, CallContext, Reservation } from './control.js';
import { simError } from './control.js';

const MINUTE_MS = 60_000;

/** A bucket that refills continuously to `capacity` over one (scaled) minute. */
class Bucket {
  private level: number;
  private last: number;
  constructor(
    readonly capacity: number,
    private readonly windowMs: number,
    now: number,
  ) {
    this.level = capacity;
    this.last = now;
  }
  private refill(now: number): void {
    if (now > this.last)
      this.level = Math.min(this.capacity, this.level + ((now - this.last) * this.capacity) / this.windowMs);
    this.last = Math.max(this.last, now);
  }
  has(amount: number, now: number): boolean {
    this.refill(now);
    return this.level >= amount;
  }
  take(amount: number): void {
    this.level -= amount;
  }
  give(amount: number): void {
    this.level = Math.min(this.capacity, this.level + amount);
  }
  /** Milliseconds until `amount` is available. */
  waitFor(amount: number): number {
    return this.level >= amount ? 0 : ((amount - this.level) * this.windowMs) / this.capacity;
  }
}

export interface QuotaOptions {
  timeScale: number;
  /** Cross-region profile quotas are this many times the on-demand quota. */
  profileMultiplier: number;
  limits(baseId: string): { rpm: number; tpm: number };
  clock(): number;
}

/**
 * Bedrock's per-model RPM and TPM quotas as token buckets. TPM is charged `input + max
 * output tokens` up front and corrected when the call ends (reference §6). A refused call is
 * charged nothing. A cross-region profile (`us.` …) has its own, larger quota.
 */
export class QuotaBook {
  private readonly buckets = new Map<string, { rpm: Bucket; tpm: Bucket }>();
  constructor(private readonly opts: QuotaOptions) {}

  private bucketsFor(key: string, baseId: string, geo: string | undefined): { rpm: Bucket; tpm: Bucket } {
    let b = this.buckets.get(key);
    if (!b) {
      const { rpm, tpm } = this.opts.limits(baseId);
      const k = geo ? this.opts.profileMultiplier : 1;
      const window = MINUTE_MS / this.opts.timeScale;
      const now = this.opts.clock();
      b = { rpm: new Bucket(rpm * k, window, now), tpm: new Bucket(tpm * k, window, now) };
      this.buckets.set(key, b);
    }
    return b;
  }

  admit(ctx: CallContext): Admission {
    const key = ctx.geo ? `${ctx.geo}.${ctx.baseId}` : ctx.baseId;
    const b = this.bucketsFor(key, ctx.baseId, ctx.geo);
    const now = this.opts.clock();
    // A request larger than the whole TPM quota could never pass; Bedrock admits it against a full bucket.
    const tokens = Math.min(ctx.inputTokens + ctx.maxOutputTokens, b.tpm.capacity);
    if (!b.rpm.has(1, now)) {
      return {
        ok: false,
        error: {
          ...simError('ThrottlingException', 'Too many requests, please wait before trying again.'),
          retryAfterSeconds: b.rpm.waitFor(1) / 1000,
        },
      };
    }
    if (!b.tpm.has(tokens, now)) {
      return {
        ok: false,
        error: {
          ...simError('ThrottlingException', 'Too many tokens, please wait before trying again.'),
          retryAfterSeconds: b.tpm.waitFor(tokens) / 1000,
        },
      };
    }
    b.rpm.take(1);
    b.tpm.take(tokens);
    return { ok: true, reservation: { key, reservedTokens: tokens } };
  }

  /** Gives back what the call reserved but did not use. */
  settle(reservation: Reservation, actualTokens: number): void {
    const unused = reservation.reservedTokens - actualTokens;
    if (unused > 0) this.buckets.get(reservation.key)?.tpm.give(unused);
  }

  /** Forgets every bucket (a model's limits may have changed). */
  reset(): void {
    this.buckets.clear();
  }
}
