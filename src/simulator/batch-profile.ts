import { z } from 'zod';
import type { ModelInfo } from '../models/info.js';

/**
 * Batch inference settings of a simulator profile: each model's quotas for model invocation
 * jobs (`models.<id>.batch`) and how long, in simulated time, a job spends in each status
 * (`batch`). Defaults live here only (`docs/bedrock-wire.md#batch-inference`).
 */

/** Per-model quotas of model invocation jobs, as a profile or `POST /_sim/models/:id` may change them. */
export const BatchLimitsSchema = z
  .object({
    supported: z
      .boolean()
      .describe('the model takes model invocation jobs (default: by model, as Bedrock lists them)'),
    minRecords: z.number().int().positive().describe('fewest records a job may have (default 100)'),
    maxRecords: z.number().int().positive().describe('most records a job may have (default 50,000)'),
    maxInputFileBytes: z
      .number()
      .int()
      .positive()
      .describe('largest input file of a job, in bytes (default 1 GiB)'),
    maxConcurrentJobs: z
      .number()
      .int()
      .positive()
      .describe(
        'jobs of the model not yet ended at once; one more is ServiceQuotaExceededException (default 10)',
      ),
  })
  .partial()
  .strict();
/** Changes to a model's batch quotas; absent fields keep the defaults. */
export type BatchLimitsOverride = z.infer<typeof BatchLimitsSchema>;
/** A model's batch quotas, every field known. */
export type BatchLimits = Required<BatchLimitsOverride>;

/** Bedrock's default quotas, for every account and model. */
export const BATCH_LIMIT_DEFAULTS: Omit<BatchLimits, 'supported'> = {
  minRecords: 100,
  maxRecords: 50_000,
  maxInputFileBytes: 1_073_741_824,
  maxConcurrentJobs: 10,
};

/** How long, in simulated milliseconds, a job spends in each status; a profile's `batch`. */
export const BatchTimingSchema = z
  .object({
    submittedMs: z.number().nonnegative().default(60_000).describe('Submitted before Validating'),
    validatingMs: z.number().nonnegative().default(120_000).describe('Validating before Scheduled'),
    scheduledMs: z.number().nonnegative().default(300_000).describe('Scheduled before InProgress'),
    perRecordMs: z
      .number()
      .nonnegative()
      .default(1_000)
      .describe('InProgress, per record: a job of 10,000 records runs about 3 simulated hours'),
  })
  .strict();
/** A profile's batch timing, defaults applied. */
export type BatchTiming = z.infer<typeof BatchTimingSchema>;

/**
 * Whether the model takes model invocation jobs when no profile says: the catalog's
 * `batchInference` (Titan Text, Cohere Command R, the first Llama 3 models, Mistral 7B, Mixtral
 * and Mistral Large (24.02) do not); a profile may say otherwise per model (`batch.supported`).
 */
export function batchSupportedByDefault(info: Pick<ModelInfo, 'batchInference'>): boolean {
  return info.batchInference;
}

/** A model's batch quotas: the defaults, with what the profile and admin API changed. */
export function batchLimits(
  info: Pick<ModelInfo, 'batchInference'>,
  override: BatchLimitsOverride = {},
): BatchLimits {
  return { supported: batchSupportedByDefault(info), ...BATCH_LIMIT_DEFAULTS, ...override };
}
