import { z } from 'zod';
import { MODEL_ERROR_KINDS } from '../models/errors.js';

/**
 * The vocabulary of attempts: how one try of one model ended, and the record of it that the
 * policy emits, the chain collects and the result keeps. It lives apart from the policy so
 * errors, events and results can name it without importing the policy.
 */

/** How one attempt on one model ended: `ok`, an error kind, or `circuit_open` (no call was made). */
const ATTEMPT_OUTCOMES = ['ok', ...MODEL_ERROR_KINDS, 'circuit_open'] as const;
/** One of {@link ATTEMPT_OUTCOMES}. */
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One attempt, as the result record keeps it (`docs/architecture.md#the-result`). */
export const AttemptRecordSchema = z.object({
  modelId: z.string().min(1),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  httpStatus: z.number().int().optional(),
  message: z.string().optional(),
  latencyMs: z.number().nonnegative(),
});
/** One attempt: the model as sent, how it ended, the HTTP status and message of a failure, and its latency. */
export type AttemptRecord = z.infer<typeof AttemptRecordSchema>;
