import { z } from 'zod';
import { SYSTEMS } from './plan.js';

/** What a worker process runs in one run. */
export const RunSpecSchema = z.strictObject({
  system: z.enum(SYSTEMS),
  redisUrl: z.string().min(1),
  prefix: z.string().min(1),
  /** The baselines' BullMQ queue (bedrock-jobs derives its own from the prefix). */
  queueName: z.string().min(1),
  endpoint: z.string().url(),
  region: z.string().min(1),
  chain: z.array(z.string().min(1)).min(1),
  maxTokens: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  /** bedrock-jobs' config; validated by its own schema in the worker process. */
  bedrockJobs: z.record(z.string(), z.unknown()),
});
/** What a worker process runs in one run. */
export type RunSpec = z.infer<typeof RunSpecSchema>;

/**
 * Harness → worker process. `start` a worker for one run; `stop` it (active jobs get `graceMs`,
 * then are aborted) and stay up for the next run.
 */
export const ParentMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('start'), spec: RunSpecSchema }),
  z.strictObject({ type: z.literal('stop'), graceMs: z.number().int().nonnegative() }),
]);
/** Harness → worker process. */
export type ParentMessage = z.infer<typeof ParentMessageSchema>;

/** Worker process → harness: loaded, worker taking jobs, worker closed, or a failure. */
export const ChildMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('loaded') }),
  z.strictObject({ type: z.literal('started') }),
  z.strictObject({ type: z.literal('stopped') }),
  z.strictObject({ type: z.literal('failed'), message: z.string() }),
]);
/** Worker process → harness. */
export type ChildMessage = z.infer<typeof ChildMessageSchema>;
