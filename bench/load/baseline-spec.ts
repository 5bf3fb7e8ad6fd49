import { z } from 'zod';

/** What one baseline worker process is told, as JSON in its first argument. */
export const BaselineSpecSchema = z.strictObject({
  redisUrl: z.string().min(1),
  /** BullMQ prefix; the answers go under it too. */
  prefix: z.string().min(1),
  queueName: z.string().min(1),
  /** The simulator. */
  endpoint: z.string().url(),
  region: z.string().min(1),
  modelId: z.string().min(1),
  maxTokens: z.number().int().positive(),
  concurrency: z.number().int().positive(),
});
/** What one baseline worker process is told. */
export type BaselineSpec = z.infer<typeof BaselineSpecSchema>;

/** The Redis hash a baseline worker writes one job's answer to. */
export const baselineResultKey = (prefix: string, id: string): string => `${prefix}:result:${id}`;

/** The hash field holding when the answer was written (ms since the epoch, this machine's clock). */
export const FINISHED_AT_FIELD = 'finishedAt';
