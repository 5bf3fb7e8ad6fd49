import { z } from 'zod';
import { STOP_REASONS } from '../models/request.js';
import { RESULT_LANES } from '../redis/names.js';
import { AttemptRecordSchema } from '../resilience/attempt.js';

const RESULT_STATUSES = ['completed', 'failed'] as const;

const Timestamp = z.iso.datetime({ offset: true });

/**
 * Why a job failed, in one word: the last attempt's outcome (a failure kind, `circuit_open` or
 * `rate_limited`), `invalid_job` when the job was refused before any model was called, or
 * `worker_error` when the worker itself kept failing (Redis down, a bug) until its attempts ran out.
 */
export const FailureKindSchema = z.union([
  AttemptRecordSchema.shape.outcome.exclude(['ok']),
  z.enum(['invalid_job', 'worker_error']),
]);
export type FailureKind = z.infer<typeof FailureKindSchema>;

/**
 * The result of one job, stored as JSON at `<prefix>:result:<id>` (`docs/architecture.md#the-result`).
 * Fields with nothing to say are `null` (no batch; a failed job has no text, stop reason or
 * serving model); `error` is present exactly when the job failed.
 */
export const ResultRecordSchema = z
  .object({
    id: z.string().min(1),
    batchId: z.string().min(1).nullable(),
    status: z.enum(RESULT_STATUSES),
    text: z.string().nullable(),
    stopReason: z.enum(STOP_REASONS).nullable(),
    modelId: z.string().min(1).nullable().describe('the model that served the job'),
    attempts: z.array(AttemptRecordSchema),
    usage: z.object({
      inputTokens: z.number().int().nonnegative(),
      outputTokens: z.number().int().nonnegative(),
    }),
    costUsd: z.number().nonnegative().describe('summed over every attempt that was billed'),
    lane: z
      .enum(RESULT_LANES)
      .optional()
      .describe(
        'online (InvokeModel/Converse) or offline (batch inference); absent in records older than lanes',
      ),
    onlineCostUsd: z
      .number()
      .nonnegative()
      .optional()
      .describe('offline results: what the same usage would have cost at on-demand prices'),
    enqueuedAt: Timestamp,
    startedAt: Timestamp,
    finishedAt: Timestamp,
    error: z.string().min(1).optional().describe('why the job failed'),
    errorKind: FailureKindSchema.optional().describe('why the job failed, in one word'),
    retry: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('the retry on purpose this result comes from (1 for the first); absent for the first run'),
  })
  .superRefine((r, ctx) => {
    if (r.status === 'failed' && r.error === undefined) {
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'is required when status is "failed"' });
    }
    if (r.status === 'completed') {
      for (const field of ['error', 'errorKind'] as const) {
        if (r[field] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: 'must be absent when status is "completed"',
          });
        }
      }
      for (const field of ['text', 'stopReason', 'modelId'] as const) {
        if (r[field] === null) {
          ctx.addIssue({ code: 'custom', path: [field], message: 'is required when status is "completed"' });
        }
      }
    }
  });
export type ResultRecord = z.output<typeof ResultRecordSchema>;
export type ResultRecordInput = z.input<typeof ResultRecordSchema>;

/**
 * The kind of a failed result: its `errorKind`, or for records written without one, its last
 * attempt's outcome (`invalid_job` when it has none).
 */
export function failureKind(r: Pick<ResultRecord, 'errorKind' | 'attempts'>): FailureKind {
  if (r.errorKind) return r.errorKind;
  const last = r.attempts.at(-1)?.outcome;
  return last && last !== 'ok' ? last : 'invalid_job';
}

/** Progress of one batch. `total` counts jobs enqueued; it is done when `completed + failed == total`. */
export interface BatchCounters {
  batchId: string;
  total: number;
  completed: number;
  failed: number;
}
