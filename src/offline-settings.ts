import { z } from 'zod';
import { MIB, MINUTE } from './units.js';

/** Bedrock's bounds on `timeoutDurationInHours` of a model invocation job. */
export const INVOCATION_TIMEOUT_HOURS = { min: 24, max: 168 } as const;

/**
 * The `offline:` section of the config: where batch-inference files go, which role Bedrock
 * assumes to read and write them, and Bedrock's per-job limits (`docs/offline-lane.md`).
 * It is a module of its own, importing nothing of ours, so `config.ts` can use it while
 * `offline/` imports `config.ts`.
 */
export const OfflineSettingsSchema = z
  .object({
    bucket: z
      .string()
      .min(3)
      .optional()
      .describe('S3 bucket of the input and output files; the offline lane sends batches online without it'),
    createBucket: z
      .boolean()
      .default(false)
      .describe(
        'create the bucket at worker start when it does not exist (the simulator, a test account; needs s3:CreateBucket)',
      ),
    prefix: z
      .string()
      .default('bedrock-jobs/')
      .describe('key prefix in the bucket; the IAM policy grants read/write below it'),
    roleArn: z
      .string()
      .regex(/^arn:aws(-[^:]+)?:iam::\d{12}:role\/.+$/, { error: 'must be an IAM role ARN' })
      .optional()
      .describe(
        'service role Bedrock assumes to read the input and write the output; the offline lane sends batches online without it',
      ),
    s3Endpoint: z
      .string()
      .url()
      .optional()
      .describe('S3 endpoint override (path-style); default: the Bedrock endpoint override'),
    region: z
      .string()
      .min(1)
      .optional()
      .describe('region of the bucket and the invocation jobs; default: the Bedrock region'),
    minRecords: z
      .number()
      .int()
      .positive()
      .default(100)
      .describe('fewest records of one model invocation job (a Bedrock quota); smaller groups run online'),
    minRecordsByModel: z
      .record(z.string().min(1), z.number().int().positive())
      .default({})
      .describe('per model id as the chain names it: its own minimum, where its quota differs'),
    maxRecordsPerJob: z
      .number()
      .int()
      .positive()
      .default(50_000)
      .describe('most records of one model invocation job (a Bedrock quota); more make more jobs'),
    maxFileBytes: z
      .number()
      .int()
      .positive()
      .default(256 * MIB)
      .describe(
        "largest input file of one invocation job (Bedrock's limit is 1 GB); each file is built in memory",
      ),
    pollIntervalMs: z
      .number()
      .int()
      .positive()
      .default(MINUTE)
      .describe("first wait between two looks at a batch's invocation jobs; doubles up to maxPollIntervalMs"),
    maxPollIntervalMs: z
      .number()
      .int()
      .positive()
      .default(10 * MINUTE)
      .describe("longest wait between two looks at a batch's invocation jobs"),
    timeoutHours: z
      .number()
      .int()
      .min(INVOCATION_TIMEOUT_HOURS.min)
      .max(INVOCATION_TIMEOUT_HOURS.max)
      .default(24)
      .describe('timeoutDurationInHours of each invocation job; past it Bedrock expires the job'),
    deadlineHours: z
      .number()
      .positive()
      .default(48)
      .describe(
        "a batch's default deadline, from enqueue: jobs still out in the offline lane then run online",
      ),
    concurrency: z
      .number()
      .int()
      .positive()
      .default(2)
      .describe('batches one worker process coordinates at once'),
  })
  .strict();
/** The `offline:` settings, defaults applied. */
export type OfflineSettings = z.infer<typeof OfflineSettingsSchema>;

/** Fewest records Bedrock takes in one invocation job of `modelId`. */
export function minRecordsFor(settings: OfflineSettings, modelId: string): number {
  return settings.minRecordsByModel[modelId] ?? settings.minRecords;
}
