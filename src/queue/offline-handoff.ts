import { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { HOUR } from '../units.js';
import type { ParsedBatchOptions } from './batch-options.js';
import type { ParsedProducerOptions } from './producer-options.js';

/** Jobs wait in BullMQ, delayed until the deadline, for the batch's offline lane. */
export interface OfflineTarget {
  lane: 'offline' | 'auto';
  deadlineMs: number;
}

/**
 * The offline part of a batch as its options ask: none for lane `online`, else the lane and its
 * deadline (by default `offline.deadlineHours` from now).
 */
export function offlineTarget(
  { lane, deadline }: Pick<ParsedBatchOptions, 'lane' | 'deadline'>,
  config: Pick<Config, 'offline'>,
): OfflineTarget | undefined {
  return lane === 'online'
    ? undefined
    : {
        lane,
        deadlineMs: deadline ? Date.parse(deadline) : Date.now() + config.offline.deadlineHours * HOUR,
      };
}

/** What an {@link OfflineHandoff} needs of its producer. */
export interface OfflineHandoffDeps {
  redis: RedisClient;
  keys: Keys;
  config: Pick<Config, 'resultTtlSeconds' | 'worker'>;
  opts: Pick<ParsedProducerOptions, 'backoffDelayMs' | 'keepFailedSeconds'>;
  logger: Logger;
}

/** A producer's side of the offline lane: what a batch asked for, and handing it to its coordinator. */
export class OfflineHandoff {
  /** The coordinators' queue, made on first use so producers of online batches write none of its keys. */
  private queue: Queue | undefined;

  constructor(private readonly deps: OfflineHandoffDeps) {}

  /** Notes a batch's lane and deadline where its coordinator reads them; the first call's win. */
  async note(batchId: string, target: OfflineTarget): Promise<void> {
    const { redis, keys, config } = this.deps;
    const key = keys.offline(batchId);
    await redis
      .multi()
      .hsetnx(key, 'lane', target.lane)
      .hsetnx(key, 'deadline', String(target.deadlineMs))
      .expire(key, config.resultTtlSeconds)
      .exec();
  }

  /**
   * Hands a sealed batch with an offline part to its coordinator (one BullMQ job per batch id,
   * so sealing again adds nothing). Should this fail, the batch's jobs still run online at
   * their deadline; sealing again retries it.
   */
  async start(batchId: string): Promise<void> {
    const { redis, keys, config, opts, logger } = this.deps;
    if ((await redis.hexists(keys.offline(batchId), 'lane')) !== 1) return;
    this.queue ??= new Queue(keys.offlineQueueName, { connection: redis, prefix: keys.bullPrefix });
    await this.queue.add(
      'coordinate',
      { batchId },
      {
        jobId: batchId,
        attempts: config.worker.jobAttempts,
        backoff: { type: 'exponential', delay: opts.backoffDelayMs },
        removeOnComplete: true,
        removeOnFail: { age: opts.keepFailedSeconds },
      },
    );
    logger.info({ batchId }, 'batch handed to the offline lane');
  }

  /** Closes the coordinators' queue, when this producer made it. */
  async close(): Promise<void> {
    await this.queue?.close();
  }
}
