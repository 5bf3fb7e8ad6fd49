import { z } from 'zod';
import { splitGeoPrefix } from '../models/model-id.js';
import type { Random } from '../random.js';
import { type BatchFaultRule, BatchFaultSchema } from './batch-faults.js';
import type { CallContext, FaultDecision, SimError } from './control.js';
import { simError } from './control.js';

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
export type FaultKind = 'outage' | ErrorKind | 'hang' | 'contentFilter' | 'slowStream' | 'breakStream';

const STREAM_EXCEPTIONS = [
  'modelStreamError',
  'internal',
  'unavailable',
  'throttle',
  'timeout',
  'validation',
] as const;

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

const validPattern = (pattern: string): boolean => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

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
    contentFilter: z
      .object({
        pattern: z.string().min(1).refine(validPattern, { message: 'not a valid regular expression' }),
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
      r.contentFilter !== undefined ||
      r.slowStream !== undefined ||
      r.breakStream !== undefined ||
      r.batch !== undefined,
    {
      message:
        'a fault rule needs one of outage, sharedAccount, errorRate, hang, contentFilter, slowStream, breakStream, batch',
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

/** A rule ready to match calls: model id split, regex compiled once. */
export interface CompiledFault extends ActiveFault {
  /** Base id the rule targets, or `*`. */
  baseId: string;
  /** Set when the rule targets one cross-region profile only. */
  geo?: string;
  regex?: RegExp;
}

/**
 * Prepares a validated rule. `canonical` maps an alias to its base id so `claude-3-haiku`
 * and the full id target the same model.
 */
export function compileFault(
  rule: FaultRule,
  id: string,
  source: ActiveFault['source'],
  canonical: (id: string) => string = (x) => x,
): CompiledFault {
  const { baseId: bare, geo } = splitGeoPrefix(rule.model);
  const baseId = rule.model === '*' ? '*' : canonical(bare);
  return {
    id,
    source,
    rule,
    baseId,
    ...(geo ? { geo } : {}),
    ...(rule.contentFilter
      ? { regex: new RegExp(rule.contentFilter.pattern, rule.contentFilter.flags) }
      : {}),
  };
}

const MESSAGES: Readonly<Record<ErrorKind, [SimError['name'], string]>> = {
  throttle: ['ThrottlingException', 'Too many requests, please wait before trying again.'],
  internal: [
    'InternalServerException',
    'The system encountered an unexpected error during processing. Try your request again.',
  ],
  unavailable: ['ServiceUnavailableException', 'Service Unavailable. Please try again later.'],
  notReady: ['ModelNotReadyException', 'Model is not ready for inference. Wait and try your request again.'],
  timeout: [
    'ModelTimeoutException',
    'Model has timed out in processing the request. Try your request again.',
  ],
  modelError: ['ModelErrorException', 'The model returned the following errors: simulated model failure'],
};

/** The Bedrock error a fault of this kind answers with. */
export function errorFor(kind: ErrorKind, modelId: string): SimError {
  const [name, message] = MESSAGES[kind];
  return kind === 'modelError'
    ? simError(name, message, { originalStatusCode: 500, resourceName: modelId })
    : simError(name, message);
}

function streamException(kind: (typeof STREAM_EXCEPTIONS)[number], modelId: string): SimError {
  // `validation`: what Claude streams when it refuses a request that Bedrock let through.
  if (kind === 'validation') return simError('ValidationException', 'Input is too long for requested model.');
  return kind === 'modelStreamError'
    ? simError('ModelStreamErrorException', 'The model stream was interrupted. Try your request again.', {
        originalStatusCode: 500,
        originalMessage: 'simulated stream failure',
      })
    : errorFor(kind, modelId);
}

/**
 * The share of a model's quota that unseen traffic of the account uses at `scaledNowMs`: the
 * largest `sharedAccount.unseenShare` of the rules in force for it, else 0.
 */
export function unseenShare(
  faults: readonly CompiledFault[],
  ctx: Pick<CallContext, 'baseId' | 'geo' | 'modelId'>,
  scaledNowMs: number,
): number {
  let share = 0;
  for (const fault of faults) {
    const taken = fault.rule.sharedAccount?.unseenShare;
    if (taken !== undefined && targets(fault, ctx) && inWindow(fault.rule, scaledNowMs))
      share = Math.max(share, taken);
  }
  return Math.min(share, 0.999);
}

function targets(fault: CompiledFault, ctx: Pick<CallContext, 'baseId' | 'geo' | 'modelId'>): boolean {
  if (fault.baseId === '*') return true;
  if (fault.baseId !== ctx.baseId) return fault.rule.model === ctx.modelId;
  return fault.geo === undefined || fault.geo === ctx.geo;
}

function inWindow(rule: FaultRule, scaledNowMs: number): boolean {
  return (
    (rule.fromMs === undefined || scaledNowMs >= rule.fromMs) &&
    (rule.toMs === undefined || scaledNowMs < rule.toMs)
  );
}

/**
 * The batch faults of the rules that target a model invocation job of `ctx`'s model and are in
 * force at `scaledNowMs` (when the job is created), newest rule first.
 */
export function batchRulesFor(
  faults: readonly CompiledFault[],
  ctx: Pick<CallContext, 'baseId' | 'geo' | 'modelId'>,
  scaledNowMs: number,
): BatchFaultRule[] {
  const out: BatchFaultRule[] = [];
  for (const fault of faults)
    if (fault.rule.batch && targets(fault, ctx) && inWindow(fault.rule, scaledNowMs))
      out.push({ ruleId: fault.id, fault: fault.rule.batch });
  return out;
}

/** Draws only for real probabilities, so rules at 0 or 1 leave the stream untouched. */
const fires = (p: number, random: Random): boolean => p >= 1 || (p > 0 && random() < p);

/** What a fault did to a call, and under which kind `/_sim/stats` counts it. */
export interface FaultOutcome {
  decision: FaultDecision;
  kind?: FaultKind;
}

const NONE: FaultOutcome = Object.freeze({ decision: Object.freeze({ type: 'none' as const }) });

/**
 * Decides the fault for one call: the first rule that targets the call, is in its time
 * window and fires wins. Within a rule: outage, then error rates (one draw over the
 * cumulative probabilities), hang, content filter, broken stream, slow stream. Stream
 * effects only touch streaming calls; CountTokens only sees outages and error rates.
 * @param scaledNowMs simulated milliseconds since the simulator started
 * @param timeScale to turn a hang's simulated `afterMs` into real milliseconds
 */
export function decideFault(
  faults: readonly CompiledFault[],
  ctx: CallContext,
  scaledNowMs: number,
  timeScale: number,
  random: Random,
): FaultOutcome {
  const streaming = ctx.operation === 'invoke-stream' || ctx.operation === 'converse-stream';
  const generates = ctx.operation !== 'count-tokens';
  for (const fault of faults) {
    const { rule } = fault;
    if (!targets(fault, ctx) || !inWindow(rule, scaledNowMs)) continue;
    if (rule.outage)
      return { decision: { type: 'error', error: errorFor('unavailable', ctx.modelId) }, kind: 'outage' };
    if (rule.errorRate) {
      let draw = random();
      for (const kind of ERROR_KINDS) {
        const p = rule.errorRate[kind] ?? 0;
        if (draw < p) return { decision: { type: 'error', error: errorFor(kind, ctx.modelId) }, kind };
        draw -= p;
      }
    }
    if (!generates) continue;
    if (rule.hang && fires(rule.hang.probability, random)) {
      const afterMs = rule.hang.afterMs;
      return {
        decision: afterMs === undefined ? { type: 'hang' } : { type: 'hang', afterMs: afterMs / timeScale },
        kind: 'hang',
      };
    }
    if (fault.regex?.test(ctx.promptText))
      return { decision: { type: 'content_filter' }, kind: 'contentFilter' };
    if (streaming && rule.breakStream && fires(rule.breakStream.probability, random)) {
      const { afterChunks, exception } = rule.breakStream;
      return {
        decision: { type: 'break_stream', afterChunks, exception: streamException(exception, ctx.modelId) },
        kind: 'breakStream',
      };
    }
    if (streaming && rule.slowStream && fires(rule.slowStream.probability, random))
      return { decision: { type: 'slow_stream', factor: rule.slowStream.factor }, kind: 'slowStream' };
  }
  return NONE;
}
