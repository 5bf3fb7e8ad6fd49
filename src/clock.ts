import { setTimeout as sleep } from 'node:timers/promises';
import type { Random } from './random.js';

/**
 * Time and randomness, injected into the resilience pipeline, the worker and the simulator so
 * tests run in virtual time. This file is the one place that reads the real clock or
 * `Math.random` for them; seeded generators for tests are in `random.ts`.
 */

/** Where the pipeline, the worker and the simulator read the time and sleep. */
export interface Clock {
  /** Milliseconds since the epoch (or any fixed origin: only differences matter). */
  now(): number;
  /**
   * Resolves after `ms`; rejects with `signal.reason` as soon as `signal` aborts.
   * `ms <= 0` resolves without a timer.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('sleep aborted');
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal as AbortSignal));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/**
 * The real clock on `performance.now()`: never steps back when the wall clock is set, so
 * measured durations and refill windows stay true. Its zero is the process start, not the epoch.
 */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => systemClock.sleep(ms, signal),
};

/** `Math.random`, for production wiring. */
export const systemRandom: Random = () => Math.random();

interface Timer {
  due: number;
  seq: number;
  fire: () => void;
}

interface PendingWaiter {
  count: number;
  withinMs: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told: `advance(ms)` fires due sleeps in order, and
 * `run(promise)` moves virtual time from one pending sleep to the next until the promise
 * settles. Backoff, timeouts and half-open delays are then exact and instant in tests.
 * Code that also does real I/O (a socket, Redis) is driven with `drive(promise)` instead,
 * or one sleep at a time with `step()` once `sleeping(n)` says that code has reached its
 * sleeps.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers: Timer[] = [];
  private waiters: PendingWaiter[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Sleeps not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        due: this.current + ms,
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.remove(timer);
        reject(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.wakeWaiters();
    });
  }

  /** Sleeps not yet fired that fall due within `ms` from now. */
  pendingWithin(ms: number): number {
    let n = 0;
    for (const t of this.timers) if (t.due <= this.current + ms) n++;
    return n;
  }

  /**
   * Resolves once at least `count` sleeps are pending, e.g. when every job has reached its
   * backoff, or a server its latency wait; resolves at once when they already are. With
   * `withinMs`, only sleeps due that soon count: a backoff, not the far timeout of a call
   * still in flight.
   */
  sleeping(count = 1, options: { withinMs?: number } = {}): Promise<void> {
    const withinMs = options.withinMs ?? Number.POSITIVE_INFINITY;
    if (this.pendingWithin(withinMs) >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, withinMs, resolve }));
  }

  /**
   * Moves time to the earliest pending sleep and fires that one alone, even when others fall
   * due at the same time, so code woken by it runs before anything else moves.
   * @returns false when no sleep is pending
   */
  step(): boolean {
    const next = this.earliest();
    if (!next) return false;
    this.current = Math.max(this.current, next.due);
    this.remove(next);
    next.fire();
    return true;
  }

  /** Moves time forward by `ms`, firing every sleep that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (let next = this.earliest(); next && next.due <= target; next = this.earliest()) {
      this.current = next.due;
      this.remove(next);
      next.fire();
    }
    this.current = target;
  }

  /**
   * Drives virtual time until `promise` settles: lets pending callbacks run, then jumps to
   * the next sleep and fires it, and so on.
   * @throws Error when the promise waits on something that is not a sleep of this clock.
   */
  async run<T>(promise: Promise<T>, maxSteps = 10_000): Promise<T> {
    let settled = false;
    promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    for (let step = 0; step < maxSteps; step++) {
      await drain();
      if (settled) return promise;
      const next = this.earliest();
      if (!next) {
        throw new Error('ManualClock.run: the promise waits on something other than this clock');
      }
      this.advance(next.due - this.current);
    }
    throw new Error(`ManualClock.run: not settled after ${maxSteps} timer steps`);
  }

  /**
   * Drives virtual time until `promise` settles, for code that mixes this clock's sleeps with
   * real I/O: whenever a sleep is pending, time jumps to it and fires it; otherwise it waits
   * for the next sleep (or for the promise). Time moves only as far as the sleeps ask, so
   * what the code measures on this clock is exact however slow the I/O in between is.
   */
  async drive<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const done = promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    for (;;) {
      await drain();
      if (settled) return promise;
      const next = this.earliest();
      if (next) this.advance(next.due - this.current);
      else await Promise.race([done, this.sleeping(1)]);
    }
  }

  private wakeWaiters(): void {
    const isReady = (w: PendingWaiter): boolean => this.pendingWithin(w.withinMs) >= w.count;
    const ready = this.waiters.filter(isReady);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !isReady(w));
    for (const w of ready) w.resolve();
  }

  private earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) {
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private remove(timer: Timer): void {
    const i = this.timers.indexOf(timer);
    if (i >= 0) this.timers.splice(i, 1);
  }
}

/** Resolves after every queued promise callback has run (one macrotask turn). */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Whether `work` settles (either way) within `ms` of real time. For waits on sockets, not on the
 * pipeline's clock (shutdown steps, a last flush): a test's manual clock must not hold them.
 * The timer does not keep the process alive.
 */
export async function settlesWithin(work: Promise<unknown> | unknown, ms: number): Promise<'done' | 'late'> {
  const timer = new AbortController();
  const late = sleep(ms, 'late' as const, { signal: timer.signal, ref: false }).catch(() => 'done' as const);
  try {
    return await Promise.race([
      Promise.resolve(work).then(
        () => 'done' as const,
        () => 'done' as const,
      ),
      late,
    ]);
  } finally {
    timer.abort();
  }
}
