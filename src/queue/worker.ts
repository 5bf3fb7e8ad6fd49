import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BedrockModelClient, createBedrockRuntime } from '../bedrock/client.js';
import type { ModelClient } from '../bedrock/types.js';
import type { Config } from '../config.js';
import { type Logger, silentLogger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { BreakerRegistry } from '../resilience/breaker.js';
import { type Clock, type Random, systemClock, systemRandom } from '../resilience/clock.js';
import { modelPolicyConfig, PolicyRegistry } from '../resilience/policy.js';
import { configuredLimits, RedisRateLimiter } from '../resilience/ratelimit.js';
import { ResultStore } from '../results/store.js';
import { TokenCalibration } from '../summarize/calibration.js';
import { keysFor } from './keys.js';
import { createProcessor, type JobOutcome } from './processor.js';

export interface WorkerOptions {
  config: Config;
  logger?: Logger;
  /** Jobs processed at once; defaults to `config.worker.concurrency`. */
  concurrency?: number;
  /** Replaces the Bedrock client (tests of the shell only; integration tests use the simulator). */
  client?: ModelClient;
  /** Fleet-wide rate limits from config and catalog quotas; on by default. */
  fleetRateLimits?: boolean;
  /**
   * Where breakers, backoff, call timeouts and the shutdown deadline take their time; the real
   * clock by default. When given, the fleet limiter reads it too instead of Redis `TIME`, so a
   * test that steps a `ManualClock` moves every wait of the worker together.
   */
  clock?: Clock;
  /** Backoff jitter; `Math.random` by default. */
  rand?: Random;
}

export interface RunningWorker {
  worker: Worker<unknown, JobOutcome>;
  breakers: BreakerRegistry;
  catalog: ModelCatalog;
  /**
   * Stops taking jobs, lets active ones finish until the deadline (on the worker's clock),
   * then aborts them. Idempotent.
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
}

/**
 * Starts one worker process's BullMQ worker with its resilience pipeline: one SDK client,
 * per-model breakers and policies, the fleet-wide limiter, and the result store.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { config } = options;
  const logger = (options.logger ?? silentLogger).child({ component: 'worker' });
  const keys = keysFor(config.prefix);
  const catalog = new ModelCatalog(config.customModels);
  const clock = options.clock ?? systemClock;
  const rand = options.rand ?? systemRandom;
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.error({ err }, 'redis connection error'));
  const sdk = options.client
    ? undefined
    : createBedrockRuntime({
        region: config.region,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      });
  const client = options.client ?? new BedrockModelClient(sdk!);
  const breakers = new BreakerRegistry({ settingsFor: (id) => modelPolicyConfig(config, id).breaker, clock });
  const policies = new PolicyRegistry({ config, client, breakers, clock, rand });
  const limiter =
    options.fleetRateLimits === false
      ? undefined
      : new RedisRateLimiter({
          redis,
          prefix: keys.prefix,
          limits: configuredLimits(config, catalog),
          ...(options.clock ? { clock: options.clock } : {}),
        });
  const store = new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds });
  const queue = new Queue(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ err }, 'queue error'));

  breakers.events.on('open', (e) =>
    logger.warn(
      { model: e.modelId, kind: e.kind, halfOpenAt: new Date(e.halfOpenAt).toISOString() },
      'circuit opened',
    ),
  );
  breakers.events.on('halfOpen', (e) => logger.info({ model: e.modelId }, 'circuit half-open: probing'));
  breakers.events.on('close', (e) => logger.info({ model: e.modelId }, 'circuit closed'));
  breakers.events.on('retry', (e) =>
    logger.debug(
      { model: e.modelId, attempt: e.attempt, kind: e.kind, delayMs: e.delayMs },
      'retrying model',
    ),
  );
  breakers.events.on('fallback', (e) =>
    logger.info({ from: e.from, to: e.to, outcome: e.outcome }, 'falling back'),
  );

  const processor = createProcessor({
    config,
    catalog,
    policies,
    store,
    logger,
    events: breakers.events,
    redis,
    queue,
    breakers,
    calibration: new TokenCalibration(),
    ...(limiter ? { limiter } : {}),
  });
  const worker = new Worker<unknown, JobOutcome>(keys.queueName, processor, {
    connection: { url: config.redisUrl, maxRetriesPerRequest: null },
    prefix: keys.bullPrefix,
    concurrency: options.concurrency ?? config.worker.concurrency,
    // Results live in our store; BullMQ keeps finished jobs only briefly, for the dashboard.
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 24 * 3600, count: 10_000 },
    maximumRateLimitDelay: 30_000,
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (job && err.name !== 'RateLimitError')
      logger.debug({ jobId: job.id, reason: err.message }, 'job failed in BullMQ');
  });
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  const shutdown = async (deadlineMs: number): Promise<void> => {
    const graceful = worker.close();
    const finished = new AbortController();
    const deadline = clock.sleep(deadlineMs, finished.signal).then(
      () => 'late' as const,
      () => 'done' as const,
    );
    let first: 'done' | 'late';
    try {
      first = await Promise.race([graceful.then(() => 'done' as const), deadline]);
    } finally {
      finished.abort();
    }
    if (first === 'late') {
      logger.warn({ deadlineMs }, 'active jobs did not finish in time; aborting them');
      worker.cancelAllJobs('shutdown');
      await worker.close(true);
    }
    for (const step of [() => queue.close(), () => redis.quit(), async () => sdk?.destroy()]) {
      try {
        await step();
      } catch (err) {
        logger.warn({ err }, 'error while closing');
      }
    }
  };
  return {
    worker,
    breakers,
    catalog,
    close(opts = {}) {
      closing ??= shutdown(opts.deadlineMs ?? config.worker.shutdownTimeoutMs);
      return closing;
    },
  };
}
