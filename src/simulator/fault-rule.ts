import { z } from 'zod';
import { BatchFaultSchema } from './batch-faults.js';
import { RegexPatternSchema } from './regex-pattern.js';

const probability = z.number().min(0).max(1);

/** Error kinds an `errorRate` draws from, each with its Bedrock error (`docs/bedrock-wire.md#error-shapes`). */
export const ERROR_KINDS = [
  'throttle',
  'internal',
  'unavailable',
  'notReady',
  'timeout',
  'modelError',
] as const;
/** One of {@link ERROR_KINDS}. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Every way a fault rule can change a call; `/_sim/stats` counts faults by these names. */
export type FaultKind =
  | 'outage'
  | ErrorKind
  | 'hang'
  | 'reset'
  | 'contentFilter'
  | 'slowStream'
  | 'breakStream';

/** Exceptions a `breakStream` rule may end a stream with. */
const STREAM_EXCEPTIONS = [
  'modelStreamError',
  'internal',
  'unavailable',
  'throttle',
  'timeout',
  'validation',
] as const;
/** One of {@link STREAM_EXCEPTIONS}. */
export type StreamException = (typeof STREAM_EXCEPTIONS)[number];

const ErrorRateSchema = z
  .object(
    Object.fromEntries(ERROR_KINDS.map((k) => [k, probability.optional()])) as Record<
      ErrorKind,
      z.ZodOptional<typeof probability>
    >,
  )
  .strict()
  .refine((rates) => Object.values(rates).reduce((sum: number, p) => sum + (p ?? 0), 0) <= 1 + 1e-9, {
    message: 'the error probabilities add up to more than 1',
  });

/**
 * One fault rule, from a profile file or `POST /_sim/faults`. Times are simulated
 * milliseconds since the simulator started: with `timeScale: 10`, `fromMs: 10000` is 1 s real.
 */
export const FaultRuleSchema = z
  .object({
    model: z
      .string()
      .min(1)
      .describe("a base id or alias (every route to it), a profile id like 'us.<base id>', or '*'"),
    fromMs: z.number().nonnegative().optional().describe('active from this simulated time'),
    toMs: z.number().positive().optional().describe('active until this simulated time (exclusive)'),
    outage: z.boolean().optional().describe('every call: 503 ServiceUnavailableException'),
    sharedAccount: z
      .object({
        unseenShare: z
          .number()
          .gt(0)
          .max(1)
          .describe('share of the quota other software of the account uses while the rule is active'),
      })
      .strict()
      .optional()
      .describe('the account is shared with unseen traffic: the quota left to us shrinks'),
    errorRate: ErrorRateSchema.optional().describe('probability of each error kind per call'),
    hang: z
      .object({
        probability: probability.default(1),
        afterMs: z
          .number()
          .nonnegative()
          .optional()
          .describe('simulated ms before answering normally; absent: never answers'),
      })
      .strict()
      .optional(),
    reset: z
      .object({ probability: probability.default(1) })
      .strict()
      .optional()
      .describe(
        'drop the connection the call came on without an answer (a TCP reset; over HTTP/2 every call on that session with it)',
      ),
    contentFilter: z
      .object({
        pattern: RegexPatternSchema,
        flags: z
          .string()
          .regex(/^[imsu]*$/, 'only the flags i, m, s, u')
          .default('i'),
      })
      .strict()
      .optional()
      .describe('answer as content filtered when the prompt matches'),
    slowStream: z
      .object({ factor: z.number().min(1), probability: probability.default(1) })
      .strict()
      .optional()
      .describe('stream this many times slower per chunk'),
    breakStream: z
      .object({
        probability: probability.default(1),
        afterChunks: z.number().int().nonnegative().default(2),
        exception: z.enum(STREAM_EXCEPTIONS).default('modelStreamError'),
      })
      .strict()
      .optional()
      .describe('stream some chunks, then an exception event'),
    batch: BatchFaultSchema.optional().describe(
      'model invocation jobs of the model: record errors, a failed job, an expired job',
    ),
  })
  .strict()
  .refine(
    (r) =>
      r.outage === true ||
      r.sharedAccount !== undefined ||
      r.errorRate !== undefined ||
      r.hang !== undefined ||
      r.reset !== undefined ||
      r.contentFilter !== undefined ||
      r.slowStream !== undefined ||
      r.breakStream !== undefined ||
      r.batch !== undefined,
    {
      message:
        'a fault rule needs one of outage, sharedAccount, errorRate, hang, reset, contentFilter, slowStream, breakStream, batch',
    },
  )
  .refine((r) => r.fromMs === undefined || r.toMs === undefined || r.fromMs < r.toMs, {
    message: 'toMs must be after fromMs',
    path: ['toMs'],
  });
/** A validated fault rule, defaults filled in. */
export type FaultRule = z.infer<typeof FaultRuleSchema>;
/** A fault rule as written in a profile or posted to `/_sim/faults`. */
export type FaultRuleInput = z.input<typeof FaultRuleSchema>;

/** A rule in force, as `GET /_sim/faults` lists it. */
export interface ActiveFault {
  id: string;
  source: 'profile' | 'runtime';
  rule: FaultRule;
}
