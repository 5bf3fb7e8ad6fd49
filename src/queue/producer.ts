import { Queue } from 'bullmq';
import { CallbackOutbox } from '../callbacks/outbox.js';
import { ConfigSchema } from '../config.js';
import { silentLogger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { ensureSafeRedis, RedisSetupError } from '../redis/checks.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import type { BatchState } from '../results/batch-state.js';
import type { BatchCounters, ResultRecord } from '../results/record.js';
import { ResultStore } from '../results/store.js';
import { type BatchOptions, parseBatchOptions } from './batch-options.js';
import { BatchWaiter, type WaitOptions } from './batch-wait.js';
import { type AddTarget, BulkAdder, type EnqueueResult } from './bulk-add.js';
import { Claims } from './claim.js';
import { BatchIdSchema } from './ids.js';
import type { JobInput, StoredJob } from './jobs.js';
import { OfflineHandoff, offlineTarget } from './offline-handoff.js';
import { assignBatch, type PreparedJob, prepareJob } from './prepare-jobs.js';
import { bullJobOptions, type ProducerOptions, ProducerOptionsSchema } from './producer-options.js';
import { FailedRetries, type RetryFailedResult } from './retry-failed.js';
import type { RetryFailedOptions } from './retry-options.js';
import { JobValidationError, toJobIssues } from './validation.js';

export type { ProducerOptions, RetryFailedOptions, RetryFailedResult };

export interface BatchEnqueueResult {
  batchId: string;
  /** Jobs added by this call (and counted in the batch's `total`). */
  enqueued: number;
  duplicates: number;
  jobs: EnqueueResult[];
}

export interface Producer {
  /**
   * Validates and enqueues one job; an id that is queued, running or has a result is not added
   * again and the answer says where it is.
   * @throws JobValidationError naming the field (`job.params.temperature: must be at most 1`).
   */
  enqueue(job: JobInput): Promise<EnqueueResult>;
  /**
   * Validates every job, then enqueues them all under one batch id (`opts.batchId`, the jobs'
   * shared `batchId`, or a new uuid). Calls with the same batch id add up. The call seals the
   * batch at its end, unless `open: true` leaves it open for more calls and {@link sealBatch}.
   * `callbackUrl` (with `callbackOn`) asks for a signed POST when the batch is done.
   * @throws JobValidationError naming the index and field (`jobs[7].messages: …`, `callbackUrl: …`); nothing is enqueued.
   * @throws BatchClosedError when the batch is done already and this call would add jobs to it.
   */
  enqueueBatch(jobs: readonly JobInput[], opts?: BatchOptions): Promise<BatchEnqueueResult>;
  /**
   * Seals a batch: no more jobs will be added. It is done once every job has a result, at once
   * when they all have one already. Sealing again changes nothing.
   * @returns the batch after sealing, or undefined when no job was ever enqueued in it.
   */
  sealBatch(batchId: string): Promise<BatchState | undefined>;
  /**
   * Re-enqueues the failed jobs of a batch (only those in `ids`, when given) under the same ids,
   * without waiting for their results to expire: each failed result is superseded, the batch
   * reopens and ends again once they have new results, with one result per id. A late result of
   * the attempt that failed is never counted. Two calls at once retry each job once.
   * @returns what was retried and what was left alone and why; undefined for an unknown batch.
   * @throws JobValidationError naming the batch id or `ids[i]`.
   */
  retryFailed(batchId: string, opts?: RetryFailedOptions): Promise<RetryFailedResult | undefined>;
  getResult(id: string): Promise<ResultRecord | undefined>;
  /** Counters of a batch, or undefined when it has none. */
  getBatch(batchId: string): Promise<BatchCounters | undefined>;
  /**
   * Resolves with the final counters once the batch is sealed and `completed + failed == total`.
   * @throws BatchWaitTimeoutError (kind `wait_timeout`) naming the batch and its counters when
   *   `timeoutMs` passes first; the jobs stay queued.
   */
  waitForBatch(batchId: string, opts?: WaitOptions): Promise<BatchCounters>;
  /** Stops waiters, closes the queue, and the connection if the producer opened it. Idempotent. */
  close(): Promise<void>;
}

/** Creates a producer: the library API other services use to enqueue jobs and read results. */
export function createProducer(options: ProducerOptions): Producer {
  const opts = ProducerOptionsSchema.parse(options);
  const config = opts.config ?? ConfigSchema.parse({});
  const catalog = opts.catalog ?? ModelCatalog.of(config);
  const keys = keysFor(opts.prefix ?? config.prefix);
  const log = (opts.logger ?? silentLogger).child({ component: 'producer' });
  const ownsRedis = typeof opts.redis === 'string';
  const redis = typeof opts.redis === 'string' ? connectRedis(opts.redis, config.redis) : opts.redis;
  if (ownsRedis) redis.on('error', (err) => log.error({ err }, 'redis connection error'));
  // BullMQ shares our connection (it never closes a connection it was given).
  const queue = new Queue<StoredJob>(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => log.error({ err }, 'queue connection error'));
  // Callbacks due when this producer seals a batch are queued at once; workers' sweeps are the backstop.
  const outbox = new CallbackOutbox({ redis, keys, callbacks: config.callbacks, logger: log });
  const store = new ResultStore(redis, {
    prefix: keys.prefix,
    ttlSeconds: config.resultTtlSeconds,
    onOutbox: () => outbox.kick(),
  });
  const claims = new Claims(redis, keys);
  const adder = new BulkAdder({ queue, claims, opts, config, logger: log });
  const handoff = new OfflineHandoff({ redis, keys, config, opts, logger: log });
  const retries = new FailedRetries({
    redis,
    keys,
    queue,
    claimTtlSeconds: opts.claimTtlSeconds,
    batchTtlSeconds: config.resultTtlSeconds,
    jobOptions: (job) => bullJobOptions(job, opts, config),
    logger: log,
  });
  const waiter = new BatchWaiter(redis, store, log, opts.clock);
  let closing: Promise<void> | undefined;

  /** Once per producer, before the first job: a Redis that may evict keys would lose jobs. */
  let checked: Promise<unknown> | undefined;
  function checkRedis(): Promise<unknown> {
    checked ??= ensureSafeRedis(redis, log, { persistence: false }).catch((err: unknown) => {
      if (!(err instanceof RedisSetupError)) checked = undefined; // Redis away: ask again next time
      throw err;
    });
    return checked;
  }

  async function add(
    prepared: readonly PreparedJob[],
    target: AddTarget & { open: boolean },
  ): Promise<EnqueueResult[]> {
    await checkRedis();
    // Before any job: the coordinator reads the batch's lane and deadline there.
    if (target.offline && target.batchId !== undefined) await handoff.note(target.batchId, target.offline);
    const out = await adder.add(prepared, target);
    // Sealed only after BullMQ holds every job: a batch cannot be done half-enqueued.
    if (target.batchId !== undefined && !target.open) {
      await store.seal(target.batchId);
      await handoff.start(target.batchId);
    }
    return out;
  }

  function assertOpen(): void {
    if (closing) throw new Error('producer is closed');
  }

  return {
    async enqueue(input) {
      assertOpen();
      const p = prepareJob(input, 'job', new Date().toISOString(), { catalog, config });
      const batchId = p.job.batchId;
      const [result] = await add([p], batchId !== undefined ? { batchId, open: false } : { open: false });
      if (!result) throw new Error(`enqueue of ${p.id} returned no result`);
      log.debug({ jobId: p.id, batchId: p.job.batchId, status: result.status }, 'enqueue');
      return result;
    },

    async enqueueBatch(inputs, callOpts = {}) {
      assertOpen();
      const {
        batchId: requested,
        open,
        callback,
        lane,
        deadline,
      } = parseBatchOptions(callOpts, config.callbacks);
      const enqueuedAt = new Date().toISOString();
      // Validate everything before writing anything: one bad job refuses the whole batch.
      const ctx = { catalog, config, validChains: new Set<string>() };
      const prepared = inputs.map((input, i) => prepareJob(input, `jobs[${i}]`, enqueuedAt, ctx));
      const batchId = assignBatch(prepared, requested);
      const offline = offlineTarget({ lane, deadline }, config);
      const jobs = await add(prepared, {
        batchId,
        open,
        ...(callback ? { callback } : {}),
        ...(offline ? { offline } : {}),
      });
      const enqueued = jobs.filter((j) => j.status === 'enqueued').length;
      log.info({ batchId, enqueued, duplicates: jobs.length - enqueued }, 'batch enqueued');
      return { batchId, enqueued, duplicates: jobs.length - enqueued, jobs };
    },

    async sealBatch(batchId) {
      assertOpen();
      const parsed = BatchIdSchema.safeParse(batchId, { reportInput: true });
      if (!parsed.success) throw new JobValidationError(toJobIssues('batchId', parsed.error));
      const state = await store.seal(parsed.data);
      if (state) await handoff.start(parsed.data);
      log.info({ batchId, done: state?.done }, 'batch sealed');
      return state;
    },

    async retryFailed(batchId, retryOpts) {
      assertOpen();
      const parsed = BatchIdSchema.safeParse(batchId, { reportInput: true });
      if (!parsed.success) throw new JobValidationError(toJobIssues('batchId', parsed.error));
      await checkRedis();
      if (!(await store.state(parsed.data))) return undefined;
      return retries.retry(parsed.data, retryOpts);
    },

    getResult: (id) => store.get(id),
    getBatch: (batchId) => store.batch(batchId),

    waitForBatch(batchId, waitOpts) {
      assertOpen();
      return waiter.wait(batchId, waitOpts);
    },

    close() {
      closing ??= (async () => {
        waiter.close();
        for (const closable of [queue, outbox, handoff]) {
          try {
            await closable.close();
          } catch (err) {
            log.warn({ err }, 'closing a queue failed');
          }
        }
        if (ownsRedis) {
          try {
            await redis.quit();
          } catch {
            redis.disconnect();
          }
        }
      })();
      return closing;
    },
  };
}
