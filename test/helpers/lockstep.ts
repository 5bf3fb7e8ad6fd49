import type { ManualClock } from '../../src/clock.js';
import type { Producer } from '../../src/queue/producer.js';
import type { BatchCounters } from '../../src/results/record.js';

export interface LockstepOptions {
  producer: Producer;
  batchId: string;
  /** The clock the worker (and the simulator) were started with. */
  clock: ManualClock;
  /** The worker's concurrency: how many jobs can be running at once. */
  concurrency: number;
  /**
   * Sleeps due within this many ms are the waits of a job between calls (backoff, the fleet
   * limiter); later ones are the timeouts of calls still in flight. Keep it below the policy's
   * `timeoutMs` and above its longest backoff.
   */
  horizonMs: number;
}

/**
 * Runs a batch to the end in virtual time, one sleep at a time: the clock moves on only once
 * every job still running is asleep on it (no call in flight, none handed back to the queue),
 * and then wakes the earliest sleeper alone. What each job sees then depends only on the
 * clock, never on how fast this machine runs the calls, Redis and BullMQ in between; jobs of
 * a batch only differ by id, so which of them takes a freed slot does not change any count.
 * @returns the batch's final counters
 */
export async function runInLockstep(o: LockstepOptions): Promise<BatchCounters> {
  let remaining = Number.POSITIVE_INFINITY;
  let progressed: () => void = () => {};
  let finished = false;
  const done = o.producer.waitForBatch(o.batchId, {
    // Counters can lag behind the jobs, never run ahead: a stale count only makes this wait longer.
    onProgress: (c) => {
      remaining = c.total - c.completed - c.failed;
      progressed();
    },
  });
  done.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  for (;;) {
    const running = Math.min(o.concurrency, remaining);
    const progress = new Promise<void>((resolve) => {
      progressed = resolve;
    });
    await Promise.race([done, progress, o.clock.sleeping(running, { withinMs: o.horizonMs })]);
    if (finished) return done;
    if (remaining > 0 && o.clock.pendingWithin(o.horizonMs) >= Math.min(o.concurrency, remaining)) {
      o.clock.step();
    }
  }
}
