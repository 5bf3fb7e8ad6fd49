import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { BedrockModelClient, createBedrockRuntime } from '../bedrock/client.js';
import { startCallbackWorker } from '../callbacks/delivery-worker.js';
import { settlesWithin } from '../clock.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { ModelCatalog } from '../models/catalog.js';
import { ensureSafeRedis } from '../redis/checks.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { BreakerRegistry } from '../resilience/breaker.js';
import { FleetBreakers } from '../resilience/fleet-breaker.js';
import { modelPolicyConfig, PolicyRegistry } from '../resilience/policy-registry.js';
import { configuredLimits, RedisRateLimiter } from '../resilience/ratelimit.js';
import { ResultStore } from '../results/store.js';
import { TokenCalibration } from '../summarize/calibration.js';
import { SECOND } from '../units.js';
import { logBookkeepingFailures } from './bookkeeping-log.js';
import { loggedClient } from './call-log.js';
import { createJobRunEvents, observeJobRuns } from './job-runs.js';
import { startPreflight } from './preflight.js';
import { createProcessor, type JobOutcome } from './processor.js';
import { createQueueFailureSweep } from './queue-failures.js';
import { type WorkerOptions, WorkerOptionsSchema } from './worker-options.js';
import { startTelemetry } from './worker-telemetry.js';

export interface RunningWorker {
  worker: Worker<unknown, JobOutcome>;
  breakers: BreakerRegistry;
  catalog: ModelCatalog;
  /** This worker's Prometheus metrics (README.md, "Metrics"). */
  metrics: WorkerMetrics;
  /** Where `GET /metrics` is served, when `worker.metricsPort` is set. */
  metricsUrl?: string;
  /** Model ids its preflight found unusable (access denied, not available); filled as it learns. */
  unusableModels: ReadonlySet<string>;
  /**
   * Stops taking jobs, lets active ones finish until the deadline (on the worker's clock),
   * then aborts them. Idempotent.
   */
  close(options?: { deadlineMs?: number }): Promise<void>;
}

/**
 * Starts one worker process's BullMQ worker with its resilience pipeline: one SDK client,
 * per-model breakers and policies, the fleet-wide limiter, and the result store; beside it, the
 * delivery of batch callbacks (`docs/callbacks.md`).
 */
export async function startWorker(input: WorkerOptions): Promise<RunningWorker> {
  const options = WorkerOptionsSchema.parse(input);
  const { config, clock, rand } = options;
  const logger = options.logger.child({ component: 'worker' });
  const keys = keysFor(config.prefix);
  const catalog = ModelCatalog.of(config);
  // BullMQ's worker needs commands to wait for Redis (no retry limit); it copies this connection.
  const redis = connectRedis(config.redisUrl, config.redis, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.error({ err }, 'redis connection error'));
  // Before BullMQ touches Redis: a Redis that may evict keys loses jobs without a trace.
  try {
    await ensureSafeRedis(redis, logger, { persistence: options.checkPersistence });
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const sdk = options.client
    ? undefined
    : createBedrockRuntime({
        region: config.region,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      });
  // Model calls are logged at trace level; their text only with LOG_PROMPTS=1.
  const client = loggedClient(options.client ?? new BedrockModelClient(sdk!), logger, config.logPrompts);
  const breakers = new BreakerRegistry({ settingsFor: (id) => modelPolicyConfig(config, id).breaker, clock });
  const fleet = config.worker.sharedBreakers
    ? new FleetBreakers({
        redis,
        prefix: keys.prefix,
        owner: randomUUID(),
        refreshMs: config.worker.breakerRefreshMs,
        probeTimeoutMs: config.policy.timeoutMs,
        localClock: clock,
        ...(input.clock ? { clock } : {}),
      })
    : undefined;
  const policies = new PolicyRegistry({
    config,
    client,
    breakers,
    clock,
    rand,
    runtime: { spillWaitMs: config.limiter.spillWaitMs },
    ...(fleet ? { fleet } : {}),
  });
  const limiter = !options.fleetRateLimits
    ? undefined
    : new RedisRateLimiter({
        redis,
        prefix: keys.prefix,
        limits: configuredLimits(config, catalog),
        adaptive: config.limiter,
        // A clock the caller chose is the fleet's time too; otherwise Redis TIME is, for every worker alike.
        ...(input.clock ? { clock } : {}),
      });
  const callbacks = await startCallbackWorker({ config, keys, redis, logger });
  // A result that ends a batch (or fails a job) with a callback due has it queued at once.
  const store = new ResultStore(redis, {
    prefix: keys.prefix,
    ttlSeconds: config.resultTtlSeconds,
    onOutbox: () => callbacks.outbox.kick(),
  });
  const queue = new Queue(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ err }, 'queue error'));

  // Before the first job: which chain models may the account use? (A replaced client has no control plane.)
  const preflight = await startPreflight({
    config: options.client ? { ...config, worker: { ...config.worker, preflight: false } } : config,
    catalog,
    redis,
    keys,
    logger,
    strict: options.strict,
  }).catch(async (err: unknown) => {
    await callbacks.close();
    await queue.close();
    await redis.quit();
    sdk?.destroy();
    throw err;
  });

  breakers.events.on('open', (e) =>
    logger.warn(
      { model: e.modelId, kind: e.kind, halfOpenAt: new Date(e.halfOpenAt).toISOString() },
      'circuit opened',
    ),
  );
  // A breaker that opens here is published, so the rest of the fleet stops calling the model too.
  breakers.events.on('open', (e) => {
    if (!fleet) return;
    const { halfOpenAfterMs } = modelPolicyConfig(config, e.modelId).breaker;
    fleet
      .opened(e.modelId, halfOpenAfterMs)
      .catch((err: unknown) =>
        logger.warn({ err, model: e.modelId }, 'could not share an open breaker with the fleet'),
      );
  });
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
  logBookkeepingFailures(breakers.events, logger);

  const jobRuns = createJobRunEvents();
  const telemetry = await startTelemetry({
    config,
    keys,
    redis,
    catalog,
    breakers,
    jobRuns,
    logger,
    ...(input.clock ? { fleetClock: clock } : {}),
  }).catch(async (err: unknown) => {
    await callbacks.close();
    await preflight.close();
    await queue.close();
    await redis.quit();
    throw err;
  });
  const processJob = createProcessor({
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
    clock,
    ...(limiter ? { limiter } : {}),
    unusableModels: preflight.unusable,
  });
  const processor = observeJobRuns(processJob, { events: jobRuns, clock });
  const worker = new Worker<unknown, JobOutcome>(keys.queueName, processor, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: options.concurrency ?? config.worker.concurrency,
    // Results live in our store; BullMQ keeps finished jobs only briefly, for the dashboard.
    removeOnComplete: { age: options.keepCompletedSeconds, count: options.keepCompletedCount },
    removeOnFail: { age: options.keepFailedSeconds, count: options.keepFailedCount },
    maximumRateLimitDelay: options.maxRateLimitDelayMs,
    lockDuration: config.worker.lockDurationMs,
    stalledInterval: config.worker.stalledIntervalMs,
    maxStalledCount: config.worker.maxStalledCount,
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (job && err.name !== 'RateLimitError')
      logger.debug({ jobId: job.id, reason: err.message }, 'job failed in BullMQ');
  });
  await worker.waitUntilReady();
  // Jobs BullMQ fails on its own (stalled too often) get their failed result here, so every
  // batch ends; once at start (a crash loop may have left some) and every stalled interval.
  const failures = createQueueFailureSweep({ queue, redis, store, logger });
  let sweeping: Promise<void> | undefined;
  const sweep = () => {
    sweeping ??= failures
      .sweep()
      .then(
        () => undefined,
        (err: unknown) => logger.warn({ err }, 'could not record jobs the queue failed'),
      )
      .finally(() => {
        sweeping = undefined;
      });
    return sweeping;
  };
  void sweep();
  const sweeper = setInterval(sweep, config.worker.stalledIntervalMs);
  sweeper.unref();

  let closing: Promise<void> | undefined;
  const shutdown = async (deadlineMs: number): Promise<void> => {
    clearInterval(sweeper);
    // Not awaited here: the deadline below must start on the worker's clock at once.
    const preflightClosed = preflight.close();
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
    let unanswered = false;
    if (first === 'late') {
      logger.warn({ deadlineMs }, 'active jobs did not finish in time; aborting them');
      worker.cancelAllJobs('shutdown');
      // BullMQ's close(true) returns the graceful close already under way, which waits on Redis
      // for ever while it is down: give it a moment to hand the aborted jobs back, then cut the
      // connections. Jobs still locked are then picked up by stalled-job recovery.
      if ((await settlesWithin(graceful, FORCE_GRACE_MS)) === 'late') {
        logger.warn(
          { graceMs: FORCE_GRACE_MS },
          'redis did not answer; leaving active jobs to stalled-job recovery and disconnecting',
        );
        unanswered = true;
      }
    }
    if (unanswered || redis.status !== 'ready') {
      // Nothing more is waited for from a Redis that does not answer: every connection is cut at
      // once. BullMQ's disconnect() cuts its client at once too, then waits for an 'end' event
      // that a client cut while reconnecting never emits: those promises are left to themselves.
      // The fleet counts not yet flushed are dropped with the connection.
      for (const cut of [worker.disconnect(), callbacks.disconnect(), queue.disconnect()])
        cut.catch((err: unknown) => logger.debug({ err }, 'error while disconnecting'));
      redis.disconnect();
      sdk?.destroy();
      await settlesWithin(telemetry.close(), FORCE_GRACE_MS);
    } else {
      // quit() and the other graceful closes wait for replies: should Redis go away now, each
      // step is still cut after a grace.
      const steps: { run: () => Promise<unknown>; cut: () => unknown }[] = [
        { run: () => telemetry.close(), cut: () => undefined },
        { run: () => callbacks.close(), cut: () => callbacks.disconnect() },
        { run: () => queue.close(), cut: () => queue.disconnect() },
        { run: () => redis.quit(), cut: () => redis.disconnect() },
        { run: async () => sdk?.destroy(), cut: () => undefined },
      ];
      for (const step of steps) {
        const done = Promise.resolve()
          .then(step.run)
          .catch((err: unknown) => logger.warn({ err }, 'error while closing'));
        if ((await settlesWithin(done, FORCE_GRACE_MS)) === 'late') step.cut();
      }
    }
    await preflightClosed;
  };
  return {
    worker,
    breakers,
    catalog,
    metrics: telemetry.metrics,
    unusableModels: preflight.unusable,
    ...(telemetry.metricsUrl ? { metricsUrl: telemetry.metricsUrl } : {}),
    close(opts = {}) {
      closing ??= shutdown(opts.deadlineMs ?? config.worker.shutdownTimeoutMs);
      return closing;
    },
  };
}

/** How long a forced shutdown waits for each step that needs Redis before cutting it off. */
const FORCE_GRACE_MS = 2 * SECOND;
