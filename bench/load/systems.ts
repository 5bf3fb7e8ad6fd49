import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { type ConfigInput, ConfigSchema } from '../../src/config.js';
import type { JobInput } from '../../src/queue/jobs.js';
import { createProducer } from '../../src/queue/producer.js';
import { keysFor } from '../../src/redis/keys.js';
import { baselineResultKey, FINISHED_AT_FIELD } from './baseline-spec.js';
import { type Fleet, startBaselineFleet, startBedrockJobsFleet } from './fleet.js';
import { BENCH_REGION, type LoadPlan, prompt } from './plan.js';

/** The two systems, in the order they run and print. */
export const SYSTEM_NAMES = ['baseline', 'bedrock-jobs'] as const;
/** One of {@link SYSTEM_NAMES}. */
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** Jobs finished so far in one batch. */
export interface Finished {
  completed: number;
  failed: number;
}

/** One system under load: how its users enqueue, how its workers run, where its results are. */
export interface LoadSystem {
  readonly name: SystemName;
  /** The BullMQ queue the system's workers take from (pause, resume, worker count). */
  readonly queue: Queue;
  /**
   * Enqueues jobs `ids` in bulk as the system's users do, into batch `batchId` (bedrock-jobs'
   * producer; the baseline has no batches and ignores it); `open` leaves the batch unsealed.
   */
  enqueue(batchId: string, ids: readonly string[], open: boolean): Promise<void>;
  /** Nothing more will be added to the batch. */
  seal(batchId: string): Promise<void>;
  /** How many of the batch's jobs have finished. */
  finished(batchId: string): Promise<Finished>;
  /** When each job's result was written (ms since the epoch), undefined where there is none. */
  finishTimes(ids: readonly string[]): Promise<(number | undefined)[]>;
  /** Starts the system's worker processes. */
  startFleet(): Fleet;
  /** Closes the producer side (the fleet is stopped on its own). Idempotent. */
  close(): Promise<void>;
}

/** Where a run's systems talk to, and where they keep files. */
export interface Targets {
  redisUrl: string;
  /** The simulator. */
  endpoint: string;
  /** A run's own directory for config and log files. */
  dir: string;
}

const PIPELINE_SIZE = 1_000;

/** Reads `ids` a pipeline at a time with `read`, and maps each reply with `parse`. */
async function pipelined<T>(
  redis: Redis,
  ids: readonly string[],
  read: (pipeline: ReturnType<Redis['pipeline']>, id: string) => void,
  parse: (reply: unknown) => T,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += PIPELINE_SIZE) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + PIPELINE_SIZE)) read(pipeline, id);
    for (const [err, reply] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      out.push(parse(reply));
    }
  }
  return out;
}

/** The part of bedrock-jobs' result record the bench reads. */
const FinishedAtSchema = z.object({ finishedAt: z.string() });

/** bedrock-jobs: its producer, its CLI workers, its result records. */
export function bedrockJobs(plan: LoadPlan, targets: Targets, prefix: string): LoadSystem {
  const input: ConfigInput = {
    prefix,
    redisUrl: targets.redisUrl,
    endpoint: targets.endpoint,
    region: BENCH_REGION,
    chains: { default: [plan.modelId] },
    // Far above the load, so the fleet limiter never paces (it still runs its script per call).
    models: { [plan.modelId]: { rpm: 1e9, tpm: 1e12 } },
    worker: { concurrency: plan.concurrency },
  };
  const config = ConfigSchema.parse(input);
  const configFile = join(targets.dir, 'bedrock-jobs.json');
  writeFileSync(configFile, JSON.stringify(input));
  const keys = keysFor(prefix);
  const redis = new Redis(targets.redisUrl);
  const producer = createProducer({ redis, prefix, config });
  const queue = new Queue(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  let closing: Promise<void> | undefined;
  return {
    name: 'bedrock-jobs',
    queue,
    async enqueue(batchId, ids, open) {
      const jobs: JobInput[] = ids.map((id) => ({
        id,
        task: 'generate',
        messages: [{ role: 'user', content: prompt(id) }],
        params: { maxTokens: plan.maxTokens },
      }));
      await producer.enqueueBatch(jobs, { batchId, open });
    },
    async seal(batchId) {
      await producer.sealBatch(batchId);
    },
    async finished(batchId) {
      const counters = await producer.getBatch(batchId);
      return { completed: counters?.completed ?? 0, failed: counters?.failed ?? 0 };
    },
    finishTimes: (ids) =>
      pipelined(
        redis,
        ids,
        (p, id) => p.get(keys.result(id)),
        (reply) =>
          typeof reply === 'string'
            ? Date.parse(FinishedAtSchema.parse(JSON.parse(reply)).finishedAt)
            : undefined,
      ),
    startFleet: () => startBedrockJobsFleet(plan.processes, configFile, targets.redisUrl, targets.dir),
    close() {
      closing ??= (async () => {
        await queue.close();
        await producer.close();
        await redis.quit();
      })();
      return closing;
    },
  };
}

/** The naive baseline: BullMQ `addBulk`, plain BullMQ workers, one Redis hash per answer. */
export function baseline(plan: LoadPlan, targets: Targets, prefix: string): LoadSystem {
  const queueName = 'jobs';
  const redis = new Redis(targets.redisUrl);
  const queue = new Queue(queueName, { connection: redis, prefix });
  // BullMQ counts finished jobs per queue, not per batch: a batch's are the ones since it began.
  const batches = new Map<string, Finished>();
  const counts = async (): Promise<Finished> => {
    const c = await queue.getJobCounts('completed', 'failed');
    return { completed: c.completed ?? 0, failed: c.failed ?? 0 };
  };
  let closing: Promise<void> | undefined;
  return {
    name: 'baseline',
    queue,
    async enqueue(batchId, ids) {
      if (!batches.has(batchId)) batches.set(batchId, await counts());
      for (let i = 0; i < ids.length; i += PIPELINE_SIZE) {
        await queue.addBulk(
          ids.slice(i, i + PIPELINE_SIZE).map((id) => ({
            name: 'job',
            data: { id, prompt: prompt(id) },
            opts: { jobId: id },
          })),
        );
      }
    },
    async seal() {},
    async finished(batchId) {
      const before = batches.get(batchId) ?? { completed: 0, failed: 0 };
      const now = await counts();
      return { completed: now.completed - before.completed, failed: now.failed - before.failed };
    },
    finishTimes: (ids) =>
      pipelined(
        redis,
        ids,
        (p, id) => p.hget(baselineResultKey(prefix, id), FINISHED_AT_FIELD),
        (reply) => (typeof reply === 'string' ? Number(reply) : undefined),
      ),
    startFleet: () =>
      startBaselineFleet(
        plan.processes,
        {
          redisUrl: targets.redisUrl,
          prefix,
          queueName,
          endpoint: targets.endpoint,
          region: BENCH_REGION,
          modelId: plan.modelId,
          maxTokens: plan.maxTokens,
          concurrency: plan.concurrency,
        },
        targets.dir,
      ),
    close() {
      closing ??= (async () => {
        await queue.close();
        await redis.quit();
      })();
      return closing;
    },
  };
}
