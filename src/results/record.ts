import { z } from 'zod';
import { STOP_REASONS } from '../models/request.js';
import { AttemptRecordSchema } from '../resilience/attempt.js';

const RESULT_STATUSES = ['completed', 'failed'] as const;

const Timestamp = z.iso.datetime({ offset: true });

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
    enqueuedAt: Timestamp,
    startedAt: Timestamp,
    finishedAt: Timestamp,
    error: z.string().min(1).optional().describe('why the job failed'),
  })
  .superRefine((r, ctx) => {
    if (r.status === 'failed' && r.error === undefined) {
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'is required when status is "failed"' });
    }
    if (r.status === 'completed') {
      if (r.error !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['error'],
          message: 'must be absent when status is "completed"',
        });
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

/** Progress of one batch. `total` counts jobs enqueued; it is done when `completed + failed == total`. */
export interface BatchCounters {
  batchId: string;
  total: number;
  completed: number;
  failed: number;
}
