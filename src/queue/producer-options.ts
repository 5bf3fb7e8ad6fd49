import type { JobsOptions } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { MINUTE, SECOND } from '../units.js';
import type { QueuedJob } from './jobs.js';
import { RetentionFields } from './retention.js';

/** How a producer is made; see `docs/producer.md` for each option. */
export const ProducerOptionsSchema = z
  .object({
    redis: z
      .union([z.string().min(1), z.instanceof(Redis), z.instanceof(Cluster)])
      .describe('REDIS_URL (connected with config.redis), or a connection to share'),
    prefix: z.string().min(1).optional().describe('key prefix; default config.prefix'),
    config: z.custom<Config>().optional().describe('default: every setting at its default'),
    catalog: z.instanceof(ModelCatalog).optional().describe('default: built-in models + config.customModels'),
    logger: z.custom<Logger>().optional(),
    clock: z
      .custom<Clock>()
      .default(systemClock)
      .describe("where waitForBatch's timeoutMs reads the time; tests pass a ManualClock"),
    sliceSize: z.number().int().positive().default(500).describe('jobs per claim + addBulk round trip'),
    sliceBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024)
      .describe('approximate text per round trip, so batches of long documents stay bounded'),
    backoffDelayMs: z
      .number()
      .int()
      .positive()
      .default(SECOND)
      .describe('first BullMQ retry delay; doubles per attempt'),
    ...RetentionFields,
    // Left to the worker by default: a job that carries its own retention costs that much more
    // memory while it waits, and is kept past the worker's count.
    keepCompletedSeconds: RetentionFields.keepCompletedSeconds
      .unwrap()
      .optional()
      .describe(
        "BullMQ keeps completed jobs this long; default: the worker's setting (an hour, at most 10,000 jobs)",
      ),
    claimTtlSeconds: z
      .number()
      .int()
      .positive()
      .default((5 * MINUTE) / SECOND)
      .describe(
        'how long a claim lasts when the producer dies before BullMQ holds the job; dropped once it does',
      ),
  })
  .strict();
export type ProducerOptions = z.input<typeof ProducerOptionsSchema>;

/** The producer's options, defaults filled in. */
export type ParsedProducerOptions = z.output<typeof ProducerOptionsSchema>;

/**
 * How BullMQ keeps and retries a job a producer adds, the same for a first enqueue and a
 * retry on purpose.
 */
export function bullJobOptions(
  job: QueuedJob,
  opts: Pick<ParsedProducerOptions, 'backoffDelayMs' | 'keepCompletedSeconds' | 'keepFailedSeconds'>,
  config: Pick<Config, 'worker'>,
): JobsOptions {
  return {
    jobId: job.id,
    attempts: config.worker.jobAttempts,
    backoff: { type: 'exponential', delay: opts.backoffDelayMs },
    ...(opts.keepCompletedSeconds !== undefined
      ? { removeOnComplete: { age: opts.keepCompletedSeconds } }
      : {}),
    removeOnFail: { age: opts.keepFailedSeconds },
    ...(job.priority ? { priority: job.priority } : {}),
  };
}
