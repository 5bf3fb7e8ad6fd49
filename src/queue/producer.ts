import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { CallbackOutbox } from '../callbacks/outbox.js';
import { ConfigSchema, HOUR } from '../config.js';
import { silentLogger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { ensureSafeRedis, RedisSetupError } from '../redis/checks.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import type { BatchState } from '../results/batch-state.js';
import type { BatchCounters, ResultRecord } from '../results/record.js';
import { ResultStore } from '../results/store.js';
import { BatchClosedError } from './batch-closed.js';
import { type BatchOptions, parseBatchOptions } from './batch-options.js';
import { BatchWaiter, type WaitOptions } from './batch-wait.js';
import { type ClaimCode, type ClaimRequest, Claims } from './claim.js';
import { BatchIdSchema } from './ids.js';
import { type JobInput, parseJob, type QueuedJob } from './jobs.js';
import { bullJobOptions, type ProducerOptions, ProducerOptionsSchema } from './producer-options.js';
import { FailedRetries, type RetryFailedOptions, type RetryFailedResult } from './retry-failed.js';
import { JobValidationError, toJobIssues } from './validation.js';

export type { ProducerOptions, RetryFailedOptions, RetryFailedResult };

/**
 * Where an id that was not enqueued again already is. `enqueuing`: an enqueue of another batch
 * claimed the id moments ago and has not handed it to BullMQ yet (or died doing so; the claim
 * lapses after `claimTtlSeconds`).
 */
export type ExistingState = 'queued' | 'delayed' | 'active' | 'completed' | 'failed' | 'enqueuing';

export type EnqueueResult =
  | { id: string; status: 'enqueued' }
  | { id: string; status: 'duplicate'; existing: ExistingState };

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

/** Where the jobs of one call go: no batch, or a batch left open or sealed at the end, with its callback. */
interface BatchTarget {
  batchId?: string;
  open: boolean;
  callback?: ClaimRequest['callback'];
  /** Jobs wait in BullMQ, delayed until the deadline, for the batch's offline lane. */
  offline?: { lane: 'offline' | 'auto'; deadlineMs: number };
}

interface Prepared {
  id: string;
  job: QueuedJob;
  bytes: number;
}

const STATE: Readonly<Record<string, ExistingState>> = {
  active: 'active',
  delayed: 'delayed',
  completed: 'completed',
  failed: 'failed',
};

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
  const queue = new Queue<QueuedJob>(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => log.error({ err }, 'queue connection error'));
  // Callbacks due when this producer seals a batch are queued at once; workers' sweeps are the backstop.
  const outbox = new CallbackOutbox({ redis, keys, callbacks: config.callbacks, logger: log });
  const store = new ResultStore(redis, {
    prefix: keys.prefix,
    ttlSeconds: config.resultTtlSeconds,
    onOutbox: () => outbox.kick(),
  });
  const claims = new Claims(redis, keys);
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

  function prepare(input: unknown, path: string, enqueuedAt: string): Prepared {
    const job = parseJob(input, { catalog, config, path });
    const id = job.id ?? randomUUID();
    const bytes =
      (job.document?.length ?? 0) +
      (job.system?.length ?? 0) +
      (job.messages ?? []).reduce((n, m) => n + m.content.length, 0);
    return { id, job: { ...job, id, enqueuedAt }, bytes };
  }

  /** Puts every job of a call in one batch; a job naming another batch refuses the call. */
  function assignBatch(prepared: Prepared[], requested: string | undefined): string {
    const batchId =
      requested ?? prepared.find((p) => p.job.batchId !== undefined)?.job.batchId ?? randomUUID();
    prepared.forEach((p, i) => {
      if (p.job.batchId !== undefined && p.job.batchId !== batchId) {
        throw new JobValidationError([
          {
            path: `jobs[${i}].batchId`,
            message: `is "${p.job.batchId}" but this call enqueues batch "${batchId}"`,
          },
        ]);
      }
      p.job.batchId = batchId;
    });
    return batchId;
  }

  async function existingState(id: string, code: ClaimCode): Promise<ExistingState> {
    if (code === 'completed' || code === 'failed') return code;
    if (code === 'claimed') return 'enqueuing';
    if (code === 'again') return 'queued';
    return STATE[await queue.getJobState(id)] ?? 'queued';
  }

  async function addSlice(slice: readonly Prepared[], batch: BatchTarget): Promise<EnqueueResult[]> {
    const { batchId } = batch;
    const req: ClaimRequest = {
      ids: slice.map((p) => p.id),
      ...(batchId !== undefined ? { batchId } : {}),
      ...(batch.callback ? { callback: batch.callback } : {}),
      token: randomUUID(),
      claimTtlSeconds: opts.claimTtlSeconds,
      batchTtlSeconds: config.resultTtlSeconds,
    };
    const { codes, refused, generations } = await claims.claim(req);
    if (refused && batchId !== undefined) throw new BatchClosedError(batchId);
    // An id a retry on purpose superseded is added with that retry's generation.
    const fresh = slice.flatMap((p, i) => {
      if (codes[i] !== 'new' && codes[i] !== 'repair') return [];
      const retry = generations[i] ?? 0;
      return [retry > 0 ? { ...p, job: { ...p.job, retry } } : p];
    });
    const { offline } = batch;
    try {
      await queue.addBulk(
        fresh.map((p) => ({
          name: p.job.task,
          data: offline ? { ...p.job, lane: offline.lane } : p.job,
          opts: {
            ...bullJobOptions(p.job, opts, config),
            // The offline lane takes them from the delayed set; what is not back by the deadline runs online.
            ...(offline ? { delay: Math.max(0, offline.deadlineMs - Date.now()) } : {}),
          },
        })),
      );
    } catch (err) {
      const undone = await claims.release(req).catch(() => 0);
      log.error({ err, batchId, undone }, 'adding jobs to BullMQ failed; their claims were released');
      throw err;
    }
    return Promise.all(
      slice.map(async (p, i): Promise<EnqueueResult> => {
        const code = codes[i] ?? 'claimed';
        return code === 'new' || code === 'repair'
          ? { id: p.id, status: 'enqueued' }
          : { id: p.id, status: 'duplicate', existing: await existingState(p.id, code) };
      }),
    );
  }

  /** Once per producer, before the first job: a Redis that may evict keys would lose jobs. */
  let checked: Promise<unknown> | undefined;
  function checkRedis(): Promise<unknown> {
    checked ??= ensureSafeRedis(redis, log, { persistence: false }).catch((err: unknown) => {
      if (!(err instanceof RedisSetupError)) checked = undefined; // Redis away: ask again next time
      throw err;
    });
    return checked;
  }

  /** The coordinators' queue, made on first use so producers of online batches write none of its keys. */
  let offlineQueue: Queue | undefined;

  /**
   * Hands a sealed batch with an offline part to its coordinator (one BullMQ job per batch id,
   * so sealing again adds nothing). Should this fail, the batch's jobs still run online at
   * their deadline; sealing again retries it.
   */
  async function startOfflineLane(batchId: string): Promise<void> {
    if ((await redis.hexists(keys.offline(batchId), 'lane')) !== 1) return;
    offlineQueue ??= new Queue(keys.offlineQueueName, { connection: redis, prefix: keys.bullPrefix });
    await offlineQueue.add(
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
    log.info({ batchId }, 'batch handed to the offline lane');
  }

  async function add(prepared: readonly Prepared[], batch: BatchTarget): Promise<EnqueueResult[]> {
    await checkRedis();
    if (batch.offline && batch.batchId !== undefined) {
      // Before any job: the coordinator reads the batch's lane and deadline here (the first call's win).
      const key = keys.offline(batch.batchId);
      await redis
        .multi()
        .hsetnx(key, 'lane', batch.offline.lane)
        .hsetnx(key, 'deadline', String(batch.offline.deadlineMs))
        .expire(key, config.resultTtlSeconds)
        .exec();
    }
    const out: EnqueueResult[] = [];
    let slice: Prepared[] = [];
    let bytes = 0;
    for (const p of prepared) {
      slice.push(p);
      bytes += p.bytes;
      if (slice.length >= opts.sliceSize || bytes >= opts.sliceBytes) {
        out.push(...(await addSlice(slice, batch)));
        slice = [];
        bytes = 0;
      }
    }
    if (slice.length > 0) out.push(...(await addSlice(slice, batch)));
    // Sealed only after BullMQ holds every job: a batch cannot be done half-enqueued.
    if (batch.batchId !== undefined && !batch.open) {
      await store.seal(batch.batchId);
      await startOfflineLane(batch.batchId);
    }
    return out;
  }

  function assertOpen(): void {
    if (closing) throw new Error('producer is closed');
  }

  return {
    async enqueue(input) {
      assertOpen();
      const p = prepare(input, 'job', new Date().toISOString());
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
      const prepared = inputs.map((input, i) => prepare(input, `jobs[${i}]`, enqueuedAt));
      const batchId = assignBatch(prepared, requested);
      const offline =
        lane === 'online'
          ? undefined
          : {
              lane,
              deadlineMs: deadline ? Date.parse(deadline) : Date.now() + config.offline.deadlineHours * HOUR,
            };
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
      if (state) await startOfflineLane(parsed.data);
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
        for (const closable of [queue, outbox, ...(offlineQueue ? [offlineQueue] : [])]) {
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
