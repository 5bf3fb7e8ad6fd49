import { Worker } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { createDeliveryProcessor, type DeliveryOutcome } from './deliver.js';
import { CallbackOutbox } from './outbox.js';

export interface CallbackWorkerOptions {
  config: Config;
  keys: Keys;
  /** The worker process's own connection (`maxRetriesPerRequest: null`), for the outbox, delivery records and BullMQ. */
  redis: RedisClient;
  logger: Logger;
}

export interface RunningCallbackWorker {
  /** Kick it when a script reports a delivery written to the outbox. */
  outbox: CallbackOutbox;
  /** Lets deliveries in flight finish (each is bounded by `callbacks.timeoutMs`), then closes. Idempotent. */
  close(): Promise<void>;
  /**
   * Drops the connections without waiting for Redis (when it is down). Deliveries in flight are
   * picked up again by stalled-job recovery and, at worst, sent twice.
   */
  disconnect(): Promise<void>;
}

/**
 * The callback side of a worker process: a BullMQ worker on the delivery queue, and a sweep of
 * the outbox at start and every `callbacks.sweepMs`, which queues what a process that died
 * between ending a batch and queueing its callback left behind.
 */
export async function startCallbackWorker(options: CallbackWorkerOptions): Promise<RunningCallbackWorker> {
  const { config, keys, redis } = options;
  const logger = options.logger.child({ component: 'callbacks' });
  const outbox = new CallbackOutbox({ redis, keys, callbacks: config.callbacks, logger });
  const worker = new Worker<unknown, DeliveryOutcome>(
    keys.callbackQueueName,
    createDeliveryProcessor({ redis, keys, config, logger }),
    {
      // BullMQ makes its own blocking connection from this one (Redis or Cluster, TLS, ACL alike).
      connection: redis,
      prefix: keys.bullPrefix,
      concurrency: config.callbacks.concurrency,
    },
  );
  worker.on('error', (err) => logger.error({ err }, 'callback worker error'));
  await worker.waitUntilReady();
  outbox.kick();
  const sweep = setInterval(() => outbox.kick(), config.callbacks.sweepMs);
  sweep.unref();

  let closing: Promise<void> | undefined;
  return {
    outbox,
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        for (const step of [() => worker.close(), () => outbox.close()]) {
          try {
            await step();
          } catch (err) {
            logger.warn({ err }, 'error while closing the callback worker');
          }
        }
      })();
      return closing;
    },
    async disconnect() {
      clearInterval(sweep);
      await Promise.allSettled([worker.disconnect(), outbox.disconnect()]);
    },
  };
}
