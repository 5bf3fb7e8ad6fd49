import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type Logger, silentLogger } from '../log.js';
import { duplicateClient, type RedisClient } from '../redis/connect.js';
import { parseResultsEntry, type ResultsEntry } from '../results/stream-entry.js';

/** Longest XREAD block; bounds how long a dead connection goes unnoticed. */
const BLOCK_MS = 5_000;
/** Entries read per XREAD. */
const READ_COUNT = 1_000;
/** Wait before reading again after an error (Redis restarting, a network blip). */
const RETRY_MS = 1_000;

/** Someone following one batch's entries. */
export interface TailSubscriber {
  /** Entries of the batch, in stream order, each after every entry handed on before it. */
  onEntries(entries: readonly ResultsEntry[]): void;
  /** The tail is closing: end what depends on it. */
  onClose(): void;
}

export interface Subscription {
  /** The stream id after which the subscriber gets every entry of its batch. */
  readonly position: string;
  unsubscribe(): void;
}

/**
 * Follows the results stream for one API process: a single connection blocked in XREAD, its
 * entries handed to subscribers by batch id, however many clients follow batches. Started by
 * the first subscription; it then reads on until closed.
 */
export class ResultsTail {
  private readonly subscribers = new Map<string, Set<TailSubscriber>>();
  private readonly stop = new AbortController();
  private reader: RedisClient | undefined;
  private position = '0-0';
  private started: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly redis: RedisClient,
    private readonly streamKey: string,
    logger: Logger = silentLogger,
  ) {
    this.log = logger.child({ component: 'results-tail' });
  }

  /**
   * Registers `subscriber` for `batchId`. Every entry of the batch after the returned
   * `position` reaches it, and none before.
   * @throws when the tail is closed.
   */
  async subscribe(batchId: string, subscriber: TailSubscriber): Promise<Subscription> {
    await this.start();
    if (this.stop.signal.aborted) throw new Error('the results tail is closed');
    // From here to the return nothing awaits: the position and the registration agree.
    const set = this.subscribers.get(batchId) ?? new Set<TailSubscriber>();
    set.add(subscriber);
    this.subscribers.set(batchId, set);
    return {
      position: this.position,
      unsubscribe: () => {
        set.delete(subscriber);
        if (set.size === 0 && this.subscribers.get(batchId) === set) this.subscribers.delete(batchId);
      },
    };
  }

  /** How many subscriptions are open (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const set of this.subscribers.values()) n += set.size;
    return n;
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      // Named, so CLIENT LIST shows the one reader each API process keeps.
      const reader =
        this.redis instanceof Redis
          ? this.redis.duplicate({ connectionName: `bedrock-jobs-results-tail-${this.streamKey}` })
          : duplicateClient(this.redis);
      reader.on('error', (err) => this.log.warn({ err }, 'results stream connection error'));
      this.reader = reader;
      try {
        this.position = (await reader.xrevrange(this.streamKey, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
      } catch (err) {
        // The next subscription tries again.
        this.started = undefined;
        reader.disconnect();
        throw err;
      }
      this.loop = this.run(reader).catch((err: unknown) => this.log.error({ err }, 'results tail stopped'));
    })();
    return this.started;
  }

  private async run(reader: RedisClient): Promise<void> {
    while (!this.stop.signal.aborted) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = await reader.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.streamKey,
          this.position,
        );
      } catch (err) {
        if (this.stop.signal.aborted) return;
        this.log.warn({ err }, 'reading the results stream failed; retrying');
        await delay(RETRY_MS, undefined, { signal: this.stop.signal }).catch(() => undefined);
        continue;
      }
      const raw = reply?.[0]?.[1] ?? [];
      const last = raw.at(-1);
      if (!last) continue;
      // Position and hand-out in one synchronous step, so `subscribe` never sees one without the other.
      this.position = last[0];
      this.dispatch(raw);
    }
  }

  private dispatch(raw: readonly [string, string[]][]): void {
    const byBatch = new Map<string, ResultsEntry[]>();
    for (const [id, fields] of raw) {
      const entry = parseResultsEntry(id, fields);
      if (!entry || !this.subscribers.has(entry.batchId)) continue;
      const list = byBatch.get(entry.batchId) ?? [];
      list.push(entry);
      byBatch.set(entry.batchId, list);
    }
    for (const [batchId, entries] of byBatch) {
      for (const subscriber of [...(this.subscribers.get(batchId) ?? [])]) {
        try {
          subscriber.onEntries(entries);
        } catch (err) {
          this.log.error({ err, batchId }, 'a results subscriber failed');
        }
      }
    }
  }

  /** Ends every subscription and the reading connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort();
      for (const set of this.subscribers.values()) for (const s of set) s.onClose();
      this.subscribers.clear();
      await this.started?.catch(() => undefined);
      this.reader?.disconnect();
      await this.loop;
    })();
    return this.closing;
  }
}
