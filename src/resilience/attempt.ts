import { z } from 'zod';
import { MODEL_ERROR_KINDS } from '../models/errors.js';

/**
 * The vocabulary of attempts: how one try of one model ended, and the record of it that the
 * policy emits, the chain collects and the result keeps. It lives apart from the policy so
 * errors, events and results can name it without importing the policy.
 */

/**
 * How one attempt on one model ended: `ok`, an error kind, or one of two refusals made without
 * a call: `circuit_open` (the model's breaker is open) and `rate_limited` (the fleet's next slot
 * for the model is further away than the job may wait).
 */
const ATTEMPT_OUTCOMES = ['ok', ...MODEL_ERROR_KINDS, 'circuit_open', 'rate_limited'] as const;
/** One of {@link ATTEMPT_OUTCOMES}. */
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One attempt, as the result record keeps it (`docs/architecture.md#the-result`). */
export const AttemptRecordSchema = z.object({
  modelId: z.string().min(1),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  httpStatus: z.number().int().optional(),
  message: z.string().optional(),
  latencyMs: z.number().nonnegative(),
  api: z
    .literal('converse')
    .optional()
    .describe(
      'set when the call went through Converse although the job asked for invoke: the model is Converse-only',
    ),
});
/**
 * One attempt: the model as sent, how it ended, the HTTP status and message of a failure, its
 * latency, and `api: "converse"` when a Converse-only model served an `invoke` job.
 */
export type AttemptRecord = z.infer<typeof AttemptRecordSchema>;
