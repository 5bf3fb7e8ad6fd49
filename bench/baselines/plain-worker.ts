import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type Answer, type BenchJob, BenchJobSchema, type ChainCaller } from './types.js';

/** Writes one job's answer to Redis; `prefix` is the worker's. */
export type StoreAnswer = (redis: Redis, prefix: string, job: BenchJob, answer: Answer) => Promise<unknown>;

/** Where a plain worker takes jobs from and how many at once. */
export interface PlainWorkerOptions {
  redisUrl: string;
  /** BullMQ key prefix; results go under it too, so one SCAN deletes the run. */
  prefix: string;
  queueName: string;
  concurrency: number;
  caller: ChainCaller;
  /** How an answer is kept; default {@link storeAsString}. */
  store?: StoreAnswer;
}

/** A running plain worker. */
export interface PlainWorker {
  /**
   * Stops taking jobs and lets active ones finish for up to `graceMs`, then drops them and
   * closes the client and connections. Idempotent.
   */
  close(graceMs: number): Promise<void>;
}

/** How long a baseline's result stays in Redis if a run dies before its cleanup. */
export const RESULT_TTL_SECONDS = 3600;

/** The answer as one JSON string at `<prefix>:result:<id>`. */
export const storeAsString: StoreAnswer = (redis, prefix, job, answer) =>
  redis.set(
    `${prefix}:result:${job.id}`,
    JSON.stringify({ id: job.id, ...answer }),
    'EX',
    RESULT_TTL_SECONDS,
  );

/**
 * The worker every baseline runs in: a BullMQ worker with the defaults a team starts from
 * (one attempt per job, no rate limit) that takes a job, asks the baseline's caller and
 * stores the answer in Redis. A job whose chain failed throws, so BullMQ marks it failed.
 */
export async function startPlainWorker(options: PlainWorkerOptions): Promise<PlainWorker> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const store = options.store ?? storeAsString;
  const worker = new Worker(
    options.queueName,
    async (job, _token, signal) => {
      const data = BenchJobSchema.parse(job.data);
      const answer = await options.caller.answer(data, signal);
      await store(redis, options.prefix, data, answer);
    },
    {
      connection: { url: options.redisUrl, maxRetriesPerRequest: null },
      prefix: options.prefix,
      concurrency: options.concurrency,
    },
  );
  await worker.waitUntilReady();
  let closing: Promise<void> | undefined;
  const shutdown = async (graceMs: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const closed = worker.close();
    // A job may sit in a library's backoff for seconds; a cut run must not wait for it.
    if ((await Promise.race([closed.then(() => 'closed' as const), late])) === 'late') {
      worker.cancelAllJobs('shutdown');
      await closed.catch(() => {});
    }
    clearTimeout(timer);
    for (const step of [() => options.caller.close(), () => redis.quit()]) {
      try {
        await step();
      } catch {
        // Closing what is left matters more than how one step failed.
      }
    }
  };
  return {
    close(graceMs) {
      closing ??= shutdown(graceMs);
      return closing;
    },
  };
}
