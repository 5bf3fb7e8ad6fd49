import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { type BatchState, countersOf } from '../results/batch-state.js';
import { failureKind } from '../results/record.js';
import type { ResultStore } from '../results/store.js';
import { parseResultsEntry, type ResultsEntry } from '../results/stream-entry.js';
import type { ResultsTail, Subscription } from './results-tail.js';
import { compareStreamIds, maxStreamId, SSE_HEARTBEAT, sseEvent } from './sse.js';

/** Stream entries read per XRANGE when replaying what a reconnecting client missed. */
const REPLAY_PAGE = 500;
/** A client this far behind is dropped; it reconnects with `Last-Event-ID` and misses nothing. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface BatchEventsDeps {
  redis: RedisClient;
  keys: Keys;
  store: ResultStore;
  tail: ResultsTail;
  logger: Logger;
  /** At most one `progress` event per this long. */
  progressMs: number;
  /** A comment line this often. */
  heartbeatMs: number;
}

/**
 * One client's `GET /v1/batches/:id/events`: the batch's counters first, then `progress`
 * (throttled), one `job.failed` per failed job, and `done`, after which the response ends.
 * Event ids are results-stream ids, so a client reconnecting with `Last-Event-ID` is replayed
 * the entries after it that the stream still holds. Entries are handled one step at a time
 * in stream order, so ids only grow.
 */
export class BatchEventStream {
  private lastSent = '0-0';
  private ended = false;
  private dirty = false;
  private progressTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Steps run in order; live entries wait behind the first step (counters or replay). */
  private steps: Promise<void>;
  private openGate: () => void = () => {};
  private readonly log: Logger;

  constructor(
    private readonly deps: BatchEventsDeps,
    private readonly batchId: string,
    private readonly res: ServerResponse,
  ) {
    this.log = deps.logger.child({ component: 'batch-events', batchId });
    this.steps = new Promise<void>((resolve) => {
      this.openGate = resolve;
    });
    res.on('close', () => this.stop());
  }

  /** Subscribes to the batch and sends what the client has not seen; resolves once started. */
  async start(lastEventId: string | undefined): Promise<void> {
    let subscription: Subscription;
    try {
      subscription = await this.deps.tail.subscribe(this.batchId, {
        onEntries: (entries) => this.queueStep(() => this.handle(entries)),
        onClose: () => this.end(),
      });
    } catch (err) {
      this.openGate();
      return this.fail(err);
    }
    this.unsubscribe = subscription.unsubscribe;
    if (this.ended) {
      // The client left while we subscribed.
      this.stop();
      return this.openGate();
    }
    this.heartbeat = setInterval(() => this.write(SSE_HEARTBEAT), this.deps.heartbeatMs);
    this.heartbeat.unref();
    try {
      await this.begin(subscription.position, lastEventId);
    } catch (err) {
      this.fail(err);
    } finally {
      this.openGate();
    }
  }

  /** Replays what a reconnecting client missed, then the counters now; or the end of a done batch. */
  private async begin(position: string, lastEventId: string | undefined): Promise<void> {
    if (lastEventId !== undefined) {
      this.lastSent = lastEventId;
      await this.replay(lastEventId, position);
      if (this.ended) return;
    }
    const state = await this.deps.store.state(this.batchId);
    if (!state) return this.end();
    // A batch that ended after we subscribed has its last entries, and then its `done`, still to
    // come from the tail: ending it here would send `done` before them, and lose them.
    if (
      state.done &&
      (state.doneEventId === undefined || compareStreamIds(state.doneEventId, position) <= 0)
    ) {
      this.write(sseEvent('progress', progressData(state)));
      return this.finish(doneData(state), state.doneEventId ?? maxStreamId(position, this.lastSent));
    }
    this.lastSent = maxStreamId(position, this.lastSent);
    this.write(sseEvent('progress', progressData(state), this.lastSent));
  }

  /** The batch's entries in `(after, until]`, a page at a time. */
  private async replay(after: string, until: string): Promise<void> {
    let from = `(${after}`;
    while (!this.ended && compareStreamIds(from.slice(1), until) < 0) {
      const page = await this.deps.redis.xrange(this.deps.keys.results, from, until, 'COUNT', REPLAY_PAGE);
      const last = page.at(-1);
      if (!last) return;
      const entries = page
        .map(([id, fields]) => parseResultsEntry(id, fields))
        .filter((e): e is ResultsEntry => e !== undefined && e.batchId === this.batchId);
      await this.handle(entries);
      from = `(${last[0]}`;
    }
  }

  /**
   * Entries in stream order: `job.failed` at once (with the record's kind and error), `done`
   * ends, unless a retry has reopened the batch since that end: then the batch's entries after
   * it, and its later `done`, are still to be sent.
   */
  private async handle(entries: readonly ResultsEntry[]): Promise<void> {
    const fresh = entries.filter((e) => compareStreamIds(e.streamId, this.lastSent) > 0);
    if (this.ended || fresh.length === 0) return;
    const failedIds = fresh.flatMap((e) => (e.type === 'job' && e.status === 'failed' ? [e.jobId] : []));
    const records = new Map((await this.deps.store.getMany(failedIds)).map((r, i) => [failedIds[i], r]));
    for (const e of fresh) {
      if (this.ended) return;
      if (e.type === 'done' && (await this.superseded(e.streamId))) {
        this.lastSent = e.streamId;
        this.dirty = true;
        continue;
      }
      if (e.type === 'done') {
        return this.finish(
          {
            batchId: e.batchId,
            total: e.total,
            completed: e.completed,
            failed: e.failed,
            finishedAt: new Date(e.doneAt).toISOString(),
          },
          e.streamId,
        );
      }
      this.lastSent = e.streamId;
      this.dirty = true;
      if (e.status !== 'failed') continue;
      const r = records.get(e.jobId);
      // Kind and error only: never the prompt or any output.
      const failure = r ? { kind: failureKind(r), error: r.error } : {};
      this.write(sseEvent('job.failed', { batchId: e.batchId, id: e.jobId, ...failure }, e.streamId));
    }
    this.scheduleProgress();
  }

  /**
   * Whether the `done` entry `streamId` is an end a retry has reopened the batch after: the batch
   * is not done now, or ended again later. A batch gone from Redis keeps the end it has.
   */
  private async superseded(streamId: string): Promise<boolean> {
    const state = await this.deps.store.state(this.batchId);
    if (!state) return false;
    if (state.doneEventId === undefined) return !state.done;
    return compareStreamIds(state.doneEventId, streamId) > 0;
  }

  private scheduleProgress(): void {
    if (!this.dirty || this.progressTimer || this.ended) return;
    this.progressTimer = setTimeout(() => {
      this.queueStep(async () => {
        this.progressTimer = undefined;
        this.dirty = false;
        const state = await this.deps.store.state(this.batchId);
        if (state && !this.ended) this.write(sseEvent('progress', progressData(state), this.lastSent));
      });
    }, this.deps.progressMs);
  }

  private finish(data: Record<string, unknown>, id: string): void {
    this.write(sseEvent('done', data, id));
    this.end();
  }

  /** Runs `step` after every step before it; a failing step ends the stream. */
  private queueStep(step: () => Promise<void>): void {
    this.steps = this.steps.then(step).catch((err: unknown) => this.fail(err));
  }

  private write(chunk: string): void {
    if (this.ended || this.res.destroyed) return;
    this.res.write(chunk);
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.log.warn('client reads too slowly; dropping it (it resumes with Last-Event-ID)');
      this.stop();
      this.res.destroy();
    }
  }

  private fail(err: unknown): void {
    this.log.error({ err }, 'batch event stream failed');
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.stop();
    this.res.end();
  }

  /** Stops every timer and the subscription (client gone, or the stream ended). Idempotent. */
  private stop(): void {
    this.ended = true;
    clearTimeout(this.progressTimer);
    clearInterval(this.heartbeat);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}

function progressData(s: BatchState) {
  return { ...countersOf(s), sealed: s.sealed };
}

function doneData(s: BatchState) {
  return { ...countersOf(s), ...(s.finishedAt !== undefined ? { finishedAt: s.finishedAt } : {}) };
}
