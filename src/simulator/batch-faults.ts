import { z } from 'zod';
import { createRandom, deriveSeed } from '../random.js';
import { RegexPatternSchema } from './regex-pattern.js';

/**
 * Faults of model invocation jobs: records answered with an error, a job that fails, a job
 * that expires. A fault rule's `batch` member (`src/simulator/fault-rule.ts`); the rule's `model`
 * and time window pick the jobs, decided once when a job is created.
 */

/** The `batch` member of a fault rule. */
export const BatchFaultSchema = z
  .object({
    jobNamePattern: RegexPatternSchema.optional().describe('only jobs whose name matches this expression'),
    recordErrorRate: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('share of records answered with an error (seeded: the same records every run)'),
    recordIdPattern: RegexPatternSchema.optional().describe(
      'records whose recordId matches are answered with an error',
    ),
    recordError: z
      .object({
        code: z.number().int().min(400).max(599).default(500),
        message: z
          .string()
          .min(1)
          .default('The system encountered an unexpected error during processing. Try your request again.'),
      })
      .strict()
      .prefault({})
      .describe('the error such a record gets'),
    fail: z
      .object({
        message: z
          .string()
          .min(1)
          .default('Internal server error. Please retry the job or contact AWS Support.'),
      })
      .strict()
      .optional()
      .describe('the job fails (status Failed with this message) when it would start'),
    expire: z
      .boolean()
      .optional()
      .describe('the job never leaves Scheduled and ends Expired when its timeoutDurationInHours has passed'),
  })
  .strict()
  .refine(
    (b) =>
      b.recordErrorRate !== undefined ||
      b.recordIdPattern !== undefined ||
      b.fail !== undefined ||
      b.expire === true,
    { message: 'a batch fault needs one of recordErrorRate, recordIdPattern, fail, expire' },
  );
/** A validated batch fault. */
export type BatchFault = z.infer<typeof BatchFaultSchema>;

/** A record's error, as the `.out` line carries it. */
export interface RecordError {
  errorCode: number;
  errorMessage: string;
}

/** What the faults in force when a job was created do to it. */
export interface BatchPlan {
  /** The job ends Failed with this message when it would start. */
  failMessage?: string;
  /** The job stays Scheduled until it expires. */
  expire: boolean;
  /** The error a record gets instead of an answer, or undefined. */
  recordError(recordId: string): RecordError | undefined;
  /** Kinds of fault that apply, for the stats. */
  kinds: ('recordErrors' | 'fail' | 'expire')[];
}

/** A batch fault together with the id of its rule (which seeds its draws). */
export interface BatchFaultRule {
  ruleId: string;
  fault: BatchFault;
}

/** The plan of a job with no fault. */
export const NO_BATCH_FAULT: BatchPlan = Object.freeze({
  expire: false,
  recordError: () => undefined,
  kinds: [],
});

/**
 * Combines the batch faults that target a job into its plan: the first rule that fails or
 * expires it decides that; every record-error rule applies, the first that picks a record
 * gives it its error. A record's draw depends only on the seed, the rule, the job's name and
 * the record's id, so the same input fails the same records every run.
 */
export function planBatch(rules: readonly BatchFaultRule[], jobName: string, seed: number): BatchPlan {
  const applying = rules.filter(
    ({ fault }) => fault.jobNamePattern === undefined || new RegExp(fault.jobNamePattern).test(jobName),
  );
  if (applying.length === 0) return NO_BATCH_FAULT;
  const failMessage = applying.find((r) => r.fault.fail)?.fault.fail?.message;
  const expire = applying.some((r) => r.fault.expire === true);
  const errors = applying.filter((r) => r.fault.recordErrorRate !== undefined || r.fault.recordIdPattern);
  const compiled = errors.map(({ ruleId, fault }) => ({
    ruleId,
    fault,
    regex: fault.recordIdPattern ? new RegExp(fault.recordIdPattern) : undefined,
  }));
  const kinds: BatchPlan['kinds'] = [];
  if (errors.length > 0) kinds.push('recordErrors');
  if (failMessage !== undefined) kinds.push('fail');
  if (expire) kinds.push('expire');
  return {
    ...(failMessage !== undefined ? { failMessage } : {}),
    expire,
    kinds,
    recordError(recordId) {
      for (const { ruleId, fault, regex } of compiled) {
        const rate = fault.recordErrorRate ?? 0;
        const drawn =
          rate > 0 && createRandom(deriveSeed(seed, `${ruleId}\n${jobName}\n${recordId}`))() < rate;
        if (drawn || regex?.test(recordId))
          return { errorCode: fault.recordError.code, errorMessage: fault.recordError.message };
      }
      return undefined;
    },
  };
}
