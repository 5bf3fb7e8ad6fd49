import { type Clock, monotonicClock, settlesWithin } from '../clock.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import {
  type CallOutcome,
  encodeStatField,
  type RefusalReason,
  type SeriesCounter,
  type StatField,
  seriesField,
  WINDOW_SECONDS,
  windowStart,
} from './fleet-windows.js';
import { latencyBucket } from './latency.js';

export interface FleetStatsWriterOptions {
  /** Our own connection (not BullMQ's); never closed here. */
  redis: RedisClient;
  keys: Keys;
  /** How often the counts are written (`stats.flushMs`). */
  flushMs: number;
  /** How long a window stays in Redis after its last write (`stats.retentionSeconds`). */
  retentionSeconds: number;
  /**
   * The fleet's clock, when a test injects one. Without it the fleet's clock is Redis `TIME`:
   * learned at start and again on every flush, and carried between flushes by the monotonic
   * clock, so every worker puts a moment in the same window whatever its own wall clock says.
   */
  clock?: Clock;
  /**
   * Told when flushes start failing (once, until one succeeds again). A failed flush's counts
   * are dropped: a gap in the windows, never a double count.
   */
  onError?: (err: unknown) => void;
}

/** How long {@link FleetStatsWriter.close} waits for its last flush. */
const CLOSE_WAIT_MS = 2_000;

/** Increments waiting for the next flush: key → field → amount. */
type Pending = Map<string, Map<string, number>>;

/**
 * One worker's share of the fleet's stat windows (`fleet-windows.ts`). Counting is in memory;
 * every `flushMs` the counts go to Redis in one pipeline (HINCRBY per counter, EXPIRE per
 * window), so a worker costs Redis one round trip a second however many calls it makes.
 */
export class FleetStatsWriter {
  private pending: Pending = new Map();
  private offsetMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly o: FleetStatsWriterOptions) {}

  /** Learns the fleet's time (unless a clock was given) and starts flushing. */
  async start(): Promise<void> {
    if (!this.o.clock) {
      const before = monotonicClock.now();
      const [seconds, micros] = await this.o.redis.time();
      this.learnTime(Number(seconds), Number(micros), before);
    }
    this.timer = setInterval(() => {
      this.flush().catch(() => undefined);
    }, this.o.flushMs);
    this.timer.unref();
  }

  /** A call reached `model` and ended with `outcome` after `latencyMs`. */
  call(model: string, outcome: CallOutcome, latencyMs: number): void {
    const now = this.now();
    this.stat(now, { t: 'call', model, outcome });
    if (outcome === 'ok') this.stat(now, { t: 'latency', model, bucket: latencyBucket(latencyMs) });
    else this.series(now, 'callErrors');
  }

  /** An attempt on `model` was refused before any call. */
  refused(model: string, reason: RefusalReason): void {
    this.stat(this.now(), { t: 'refused', model, reason });
  }

  /** A job's chain gave up on `from` and moved on to `to`. */
  fallback(from: string, to: string): void {
    this.stat(this.now(), { t: 'fallback', from, to });
  }

  /** A job (not a part of a split document) ended with a result. */
  jobFinished(status: 'completed' | 'failed'): void {
    this.series(this.now(), status);
  }

  /** Writes what was counted since the last flush; waits for a flush already under way instead. */
  flush(): Promise<void> {
    this.inFlight ??= this.write().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * Stops the timer and writes the last counts, waiting at most {@link CLOSE_WAIT_MS} for Redis.
   * A connection that is not ready (Redis gone, or cut by a worker stopping during an outage)
   * takes no last write: the counts since the last flush are dropped at once. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      if (this.o.redis.status !== 'ready') return;
      const last = (async () => {
        await this.inFlight?.catch(() => undefined);
        await this.flush().catch(() => undefined);
      })();
      await settlesWithin(last, CLOSE_WAIT_MS);
    })();
    return this.closing;
  }

  /** The fleet's time in ms. */
  private now(): number {
    return this.o.clock ? this.o.clock.now() : monotonicClock.now() + this.offsetMs;
  }

  private learnTime(seconds: number, micros: number, sentAt: number): void {
    const redisMs = seconds * 1000 + micros / 1000;
    // The reply was made about halfway through the round trip.
    this.offsetMs = redisMs - (sentAt + monotonicClock.now()) / 2;
  }

  private stat(now: number, field: StatField): void {
    this.add(this.o.keys.statsWindow(windowStart(now)), encodeStatField(field));
  }

  private series(now: number, counter: SeriesCounter): void {
    this.add(this.o.keys.seriesWindow(windowStart(now)), seriesField(counter, Math.floor(now / 1000)));
  }

  private add(key: string, field: string): void {
    let fields = this.pending.get(key);
    if (!fields) {
      fields = new Map();
      this.pending.set(key, fields);
    }
    fields.set(field, (fields.get(field) ?? 0) + 1);
  }

  private async write(): Promise<void> {
    const pending = this.pending;
    if (pending.size === 0) return;
    this.pending = new Map();
    const pipeline = this.o.redis.pipeline();
    const syncsTime = !this.o.clock;
    if (syncsTime) pipeline.time();
    // A window lives on for the retention after its last write, which comes within its own span.
    const ttl = this.o.retentionSeconds + WINDOW_SECONDS;
    for (const [key, fields] of pending) {
      for (const [field, n] of fields) pipeline.hincrby(key, field, n);
      pipeline.expire(key, ttl);
    }
    const sentAt = monotonicClock.now();
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
      const time = replies[0]?.[1];
      if (syncsTime && Array.isArray(time)) this.learnTime(Number(time[0]), Number(time[1]), sentAt);
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.o.onError?.(err);
      this.failing = true;
    }
  }
}
