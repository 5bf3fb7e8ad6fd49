import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { DAY, SECOND } from '../units.js';
import { type Delivery, DeliverySchema, deliveryJobId } from './delivery.js';

/** Outbox entries read per HSCAN. */
const PAGE = 200;
/** BullMQ keeps finished deliveries this long, for inspection; the batch keeps the outcome. */
const KEEP_COMPLETED_SECONDS = DAY / SECOND;
const KEEP_FAILED_SECONDS = (7 * DAY) / SECOND;

export interface OutboxOptions {
  /** Our connection; the delivery queue shares it. */
  redis: RedisClient;
  keys: Keys;
  callbacks: Config['callbacks'];
  logger: Logger;
}

/**
 * Moves callback deliveries from the outbox (written by the scripts that end batches) to the
 * BullMQ delivery queue. The job id is derived from the delivery id, so two processes moving
 * the same entry, or one moving it twice, queue it once. An entry stays in the outbox until its
 * delivery ends (delivered or failed for good): whoever sees it (the process that ended the
 * batch, at once, or any worker's periodic sweep) queues it again if BullMQ lost it.
 */
export class CallbackOutbox {
  private queue: Queue<Delivery> | undefined;
  private readonly log: Logger;
  private moving: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: OutboxOptions) {
    this.log = options.logger.child({ component: 'callback-outbox' });
  }

  /** The delivery queue, made on first use: a producer that never ends a batch with a callback writes nothing of it. */
  private deliveries(): Queue<Delivery> {
    if (!this.queue) {
      const { redis, keys } = this.options;
      this.queue = new Queue<Delivery>(keys.callbackQueueName, {
        connection: redis,
        prefix: keys.bullPrefix,
      });
      this.queue.on('error', (err) => this.log.error({ err }, 'callback queue error'));
    }
    return this.queue;
  }

  /**
   * Queues whatever the outbox holds, in the background; a call while a pass runs makes one
   * more pass after it. Errors are logged: the next kick or sweep tries again.
   */
  kick(): void {
    if (this.closed) return;
    if (this.moving) {
      this.again = true;
      return;
    }
    this.moving = (async () => {
      do {
        this.again = false;
        try {
          await this.flush();
        } catch (err) {
          this.log.warn({ err }, 'queueing callbacks failed; the next sweep tries again');
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.moving = undefined;
    });
  }

  /** Queues every delivery in the outbox that BullMQ does not hold; returns how many it added. */
  async flush(): Promise<number> {
    const { redis, keys, callbacks } = this.options;
    let added = 0;
    let cursor = '0';
    do {
      const [next, flat] = await redis.hscan(keys.callbackOutbox, cursor, 'COUNT', PAGE);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const deliveryId = flat[i]!;
        const parsed = DeliverySchema.safeParse(safeJson(flat[i + 1]!));
        if (!parsed.success) {
          this.log.error(
            { deliveryId, issues: parsed.error.issues },
            'unreadable callback in the outbox; left there',
          );
          continue;
        }
        const jobId = deliveryJobId(deliveryId);
        // BullMQ's add is idempotent by id too; the check spares its 'duplicated' event.
        if ((await redis.exists(keys.callbackJob(jobId))) === 1) continue;
        await this.deliveries().add(parsed.data.event, parsed.data, {
          jobId,
          attempts: callbacks.attempts,
          backoff: { type: 'exponential', delay: callbacks.backoffMs },
          removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
          removeOnFail: { age: KEEP_FAILED_SECONDS },
        });
        added++;
      }
    } while (cursor !== '0');
    if (added > 0) this.log.debug({ added }, 'callbacks queued');
    return added;
  }

  /** Stops moving deliveries and drops the queue's hold on the connection without waiting for Redis. */
  async disconnect(): Promise<void> {
    this.closed = true;
    await this.queue?.disconnect();
  }

  /** Waits for a pass in progress and closes the queue (not the shared connection). Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= (async () => {
      await this.moving;
      await this.queue?.close();
    })();
    return this.closing;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
