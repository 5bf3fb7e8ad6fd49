import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { z } from 'zod';
import { settlesWithin } from '../clock.js';
import type { Config } from '../config.js';
import { type Logger, silentLogger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { BatchIdSchema } from '../queue/ids.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { ResultStore } from '../results/store.js';
import { SECOND } from '../units.js';
import { OfflineAws } from './aws.js';
import type { LaneContext, OfflineObserver } from './context.js';
import { sendAllOnline } from './plan-batch.js';
import { OfflineState } from './state.js';
import { type StepOutcome, stepLane } from './step.js';

/** A coordinator job's payload, as the producer writes it. */
const CoordinatorJobSchema = z.object({ batchId: BatchIdSchema });

/** How a worker process's coordinator of offline lanes is started. */
export const OfflineCoordinatorOptionsSchema = z
  .object({
    config: z.custom<Config>().describe('the loaded configuration'),
    logger: z.custom<Logger>().default(() => silentLogger),
    catalog: z.instanceof(ModelCatalog).optional().describe('default: built-in models + config.customModels'),
    observer: z.custom<OfflineObserver>().optional().describe("the worker's metrics"),
    unusable: z
      .custom<ReadonlySet<string>>()
      .optional()
      .describe("model ids the worker's preflight found unusable: not planned offline"),
    now: z
      .custom<() => number>()
      .default(() => Date.now)
      .describe('Unix ms now, for deadlines and result times (BullMQ delays are real time)'),
    env: z
      .custom<Readonly<Record<string, string | undefined>>>()
      .default(() => process.env)
      .describe('where AWS credentials are looked for'),
  })
  .strict();
export type OfflineCoordinatorOptions = z.input<typeof OfflineCoordinatorOptionsSchema>;

export interface RunningCoordinator {
  worker: Worker;
  /**
   * Stops taking coordinator jobs, lets a running step finish until the deadline (default
   * `worker.shutdownTimeoutMs`), closes the AWS clients. What has not closed two seconds after
   * the deadline (Redis down, a step still waiting) is disconnected: a step cut short is left to
   * stalled-job recovery and resumed from its state in Redis. Idempotent.
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
}

/** How long past its deadline a close that still waits (on Redis) is given before it is cut. */
const CUT_GRACE_MS = 2 * SECOND;

/**
 * Starts the coordinator of offline lanes inside a worker process: a BullMQ worker of the
 * `offline` queue, one job per sealed batch with an offline part. Each run is one step of the
 * batch's lane (`step.ts`); while invocation jobs run, the job puts itself back in the delayed
 * set for the next look (`offline.pollIntervalMs`, doubling up to `maxPollIntervalMs`) rather
 * than sleep, so a restarted worker simply picks it up. A crash mid-step leaves the job stalled,
 * and BullMQ gives it to another worker, which resumes from the state in Redis.
 */
export async function startOfflineCoordinator(input: OfflineCoordinatorOptions): Promise<RunningCoordinator> {
  const options = OfflineCoordinatorOptionsSchema.parse(input);
  const { config, now } = options;
  const settings = config.offline;
  const logger = options.logger.child({ component: 'offline' });
  const keys = keysFor(config.prefix);
  const catalog = options.catalog ?? ModelCatalog.of(config);
  const redis = connectRedis(config.redisUrl, config.redis, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.error({ err }, 'redis connection error'));
  const store = new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds });
  const jobs = new Queue(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  jobs.on('error', (err) => logger.error({ err }, 'queue error'));
  const aws =
    settings.bucket && settings.roleArn
      ? new OfflineAws(config, settings.bucket, settings.roleArn, settings.timeoutHours, options.env)
      : undefined;
  if (!aws) logger.warn('offline.bucket or offline.roleArn is not set: offline batches run online');
  if (aws && settings.createBucket) {
    await aws.ensureBucket().then(
      (created) => created && logger.info({ bucket: settings.bucket }, 'offline bucket created'),
      (err: unknown) => logger.warn({ err, bucket: settings.bucket }, 'could not create the offline bucket'),
    );
  }

  const pollDelayMs = (polls: number) =>
    Math.min(settings.pollIntervalMs * 2 ** Math.max(0, polls - 1), settings.maxPollIntervalMs);

  const processor = async (job: Job, token?: string): Promise<StepOutcome> => {
    const { batchId } = CoordinatorJobSchema.parse(job.data);
    const state = new OfflineState(redis, keys, batchId, config.resultTtlSeconds);
    if (!aws) {
      const sent = await sendAllOnline({ redis, keys, jobs }, batchId);
      await state.done(now());
      logger.warn({ batchId, jobs: sent }, 'offline lane not configured; the batch runs online');
      return { status: 'done', parts: 0 };
    }
    const ctx: LaneContext = {
      config,
      catalog,
      redis,
      keys,
      store,
      jobs,
      aws,
      logger,
      now,
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.unusable ? { unusable: options.unusable } : {}),
    };
    const outcome = await stepLane(ctx, state);
    if (outcome.status === 'done') {
      logger.info({ batchId, parts: outcome.parts }, 'offline lane done');
      return outcome;
    }
    const delayMs = pollDelayMs(await state.polled());
    // BullMQ's delays are real time (Redis's clock), whatever clock the rest reads.
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  };

  const worker = new Worker(keys.offlineQueueName, processor, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: settings.concurrency,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
  });
  worker.on('error', (err) => logger.error({ err }, 'offline coordinator error'));
  worker.on('failed', (job, err) => {
    if (job && !(err instanceof DelayedError))
      logger.warn(
        { batchId: job.id, reason: err.message, attempts: job.attemptsMade },
        'offline step failed',
      );
  });
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    worker,
    close(opts = {}) {
      closing ??= (async () => {
        const deadlineMs = opts.deadlineMs ?? config.worker.shutdownTimeoutMs;
        const graceful = (async () => {
          await worker.close().catch((err: unknown) => logger.warn({ err }, 'error while closing'));
          await jobs.close().catch(() => undefined);
          await redis.quit().catch(() => redis.disconnect());
        })();
        // Each of these waits for Redis for ever while it is down: a worker told to stop must stop.
        if ((await settlesWithin(graceful, deadlineMs + CUT_GRACE_MS)) === 'late') {
          logger.warn({ deadlineMs }, 'offline coordinator did not close in time; disconnecting');
          for (const cut of [worker.disconnect(), jobs.disconnect()]) cut.catch(() => undefined);
          redis.disconnect();
        }
        aws?.close();
      })();
      return closing;
    },
  };
}
