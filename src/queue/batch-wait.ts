import { z } from 'zod';
import type { Clock } from '../clock.js';
import { formatDuration } from '../duration.js';
import type { Logger } from '../log.js';
import { duplicateClient, type RedisClient } from '../redis/connect.js';
import { type BatchState, countersOf, noLanes } from '../results/batch-state.js';
import type { BatchCounters } from '../results/record.js';
import type { ResultStore } from '../results/store.js';
import { SECOND } from '../units.js';

/** How to wait for one batch. */
const WaitOptionsSchema = z
  .object({
    onProgress: z
      .custom<(counters: BatchCounters) => void>()
      .optional()
      .describe('called with the counters first, then each time they change'),
    signal: z.custom<AbortSignal>().optional().describe("aborting rejects the wait with the signal's reason"),
    pollMs: z
      .number()
      .int()
      .positive()
      .default(5 * SECOND)
      .describe(
        'longest block on the results stream before the counters are read again anyway (they also change when more jobs are enqueued into the batch)',
      ),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "give up after this long (on the producer's clock) with a BatchWaitTimeoutError; the batch's jobs stay queued",
      ),
  })
  .strict();
/** Options of {@link BatchWaiter.wait}; every field may be left out. */
export type WaitOptions = z.input<typeof WaitOptionsSchema>;
/** Stream entries read per XREAD. */
const READ_COUNT = 1_000;

/** Thrown to waiters when their producer closes. */
export class WaiterClosedError extends Error {
  override readonly name = 'WaiterClosedError';
  readonly kind = 'waiter_closed';
}

/**
 * A wait with `timeoutMs` ran out before the batch was done. Nothing was changed: the batch's
 * jobs stay queued and run on, and waiting again picks up where this left off.
 */
export class BatchWaitTimeoutError extends Error {
  override readonly name = 'BatchWaitTimeoutError';
  readonly kind = 'wait_timeout';

  constructor(
    readonly batchId: string,
    readonly timeoutMs: number,
    /** The counters when the wait gave up. */
    readonly counters: BatchCounters,
    /** False when the batch is still open: it cannot be done before it is sealed. */
    readonly sealed: boolean,
  ) {
    const { total, completed, failed } = counters;
    const finished = completed + failed;
    super(
      `batch ${batchId} not finished after ${formatDuration(timeoutMs)}: ${finished}/${total} done (${completed} completed, ${failed} failed), ${Math.max(0, total - finished)} not finished${sealed ? '' : '; the batch is open (more jobs may be added) and is not done until it is sealed'}`,
    );
  }
}

/** Whether `e` is a {@link BatchWaitTimeoutError} (by kind, so a copy from another load of the package counts too). */
export function isBatchWaitTimeout(e: unknown): e is BatchWaitTimeoutError {
  return e instanceof Error && (e as { kind?: unknown }).kind === 'wait_timeout';
}

function sameCounts(a: BatchCounters | undefined, b: BatchCounters): boolean {
  return a !== undefined && a.total === b.total && a.completed === b.completed && a.failed === b.failed;
}

/**
 * Waits for batches by following the results stream with XREAD BLOCK: the batch hash is read
 * again only when an entry of that batch arrives (or a block times out), so waiting costs one
 * blocked connection and no polling while nothing happens.
 */
export class BatchWaiter {
  private readonly readers = new Set<RedisClient>();
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: ResultStore,
    private readonly log: Logger,
    /** Times `timeoutMs`; tests pass a ManualClock and step it. */
    private readonly clock: Clock,
  ) {}

  /**
   * Resolves with the counters once the batch is done (sealed, and `completed + failed >= total`);
   * an unknown batch counts as empty, so it resolves at once with zeros.
   * @throws the signal's reason when aborted; {@link BatchWaitTimeoutError} after `timeoutMs`;
   *   {@link WaiterClosedError} when closed.
   */
  async wait(batchId: string, options: WaitOptions = {}): Promise<BatchCounters> {
    const { signal, onProgress, pollMs, timeoutMs } = WaitOptionsSchema.parse(options);
    signal?.throwIfAborted();
    const streamKey = this.store.keys.results;
    // XREAD BLOCK holds its connection, so each wait gets its own.
    const reader = duplicateClient(this.redis);
    reader.on('error', (err) => this.log.warn({ err, batchId }, 'results stream connection error'));
    this.readers.add(reader);
    const stop = () => reader.disconnect();
    signal?.addEventListener('abort', stop, { once: true });
    // The deadline cuts the blocked read short: its connection is dropped, and the loop ends.
    const deadline = new AbortController();
    let timedOut = false;
    if (timeoutMs !== undefined) {
      this.clock.sleep(timeoutMs, deadline.signal).then(
        () => {
          timedOut = true;
          stop();
        },
        () => {},
      );
    }
    let last: BatchCounters | undefined;
    try {
      // Take the stream position before reading the counters: a result saved in between is
      // then both in the counters and after `lastId`, never in neither.
      let lastId = (await reader.xrevrange(streamKey, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
      let stale = true;
      for (;;) {
        signal?.throwIfAborted();
        if (timedOut) break;
        if (stale) {
          const state: BatchState = (await this.store.state(batchId)) ?? {
            batchId,
            total: 0,
            completed: 0,
            failed: 0,
            sealed: true,
            done: true,
            lanes: noLanes(),
          };
          const now = countersOf(state);
          if (!sameCounts(last, now)) onProgress?.(now);
          last = now;
          if (state.done) return now;
        }
        if (timedOut) break;
        const reply = await reader.xread('COUNT', READ_COUNT, 'BLOCK', pollMs, 'STREAMS', streamKey, lastId);
        const entries = reply?.[0]?.[1] ?? [];
        lastId = entries.at(-1)?.[0] ?? lastId;
        // A timeout (no entries) re-reads too: more jobs may have been enqueued into the batch.
        // The batch's own entries include the one that marks it done, also when a seal ends it.
        stale = entries.length === 0 || entries.some(([, fields]) => fieldOf(fields, 'batchId') === batchId);
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (this.closed) throw new WaiterClosedError(`stopped waiting for batch ${batchId}: producer closed`);
      if (!timedOut) throw err;
    } finally {
      deadline.abort();
      signal?.removeEventListener('abort', stop);
      this.readers.delete(reader);
      reader.disconnect();
    }
    throw await this.timeout(batchId, timeoutMs ?? 0, last);
  }

  /** The error of a wait that ran out, with the counters as they are now (else as last seen). */
  private async timeout(
    batchId: string,
    timeoutMs: number,
    last: BatchCounters | undefined,
  ): Promise<BatchWaitTimeoutError> {
    const state = await this.store.state(batchId).catch(() => undefined);
    const counters = state ? countersOf(state) : (last ?? { batchId, total: 0, completed: 0, failed: 0 });
    return new BatchWaitTimeoutError(batchId, timeoutMs, counters, state?.sealed ?? true);
  }

  /** Ends every wait in progress. */
  close(): void {
    this.closed = true;
    for (const reader of this.readers) reader.disconnect();
  }
}

function fieldOf(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
