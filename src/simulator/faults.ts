import { z } from 'zod';
import type { CallContext, FaultDecision, SimError } from './control.js';
import { simError } from './control.js';

const probability = z.number().min(0).max(1);

export const FaultRuleSchema = z
  .object({
    model: z.string().min(1).describe("a base id, a profile id as called, or '*'"),
    fromMs: z.number().nonnegative().optional().describe('active from this scaled time since start'),
    toMs: z.number().positive().optional().describe('active until this scaled time since start'),
    outage: z.boolean().optional().describe('every call 503 ServiceUnavailableException'),
    errorRate: z
      .object({
        throttle: probability,
        internal: probability,
        unavailable: probability,
        notReady: probability,
        timeout: probability,
        modelError: probability,
      })
      .partial()
      .strict()
      .optional(),
    hang: z
      .object({ probability: probability.default(1), afterMs: z.number().nonnegative().optional() })
      .strict()
      .optional(),
    contentFilter: z
      .object({ pattern: z.string().min(1) })
      .strict()
      .optional(),
    slowStream: z
      .object({ factor: z.number().min(1) })
      .strict()
      .optional(),
    breakStream: z
      .object({ probability: probability.default(1), afterChunks: z.number().int().nonnegative().default(2) })
      .strict()
      .optional(),
  })
  .strict();
export type FaultRule = z.infer<typeof FaultRuleSchema>;
export type FaultRuleInput = z.input<typeof FaultRuleSchema>;

const RATE_ERRORS: Readonly<Record<string, () => SimError>> = {
  throttle: () => simError('ThrottlingException', 'Too many requests, please wait before trying again.'),
  internal: () => simError('InternalServerException', 'Internal server error'),
  unavailable: () => simError('ServiceUnavailableException', 'Service Unavailable. Please try again later.'),
  notReady: () =>
    simError('ModelNotReadyException', 'Model is not ready for inference. Wait and try your request again.'),
  timeout: () =>
    simError(
      'ModelTimeoutException',
      'Model has timed out in processing the request. Try your request again.',
    ),
  modelError: () =>
    simError('ModelErrorException', 'The model returned the following errors: internal model failure', {
      originalStatusCode: 500,
      resourceName: 'model',
    }),
};

const STREAM_BREAK = simError('ModelStreamErrorException', 'The model stream was interrupted.', {
  originalStatusCode: 500,
  originalMessage: 'stream interrupted',
});

function applies(rule: FaultRule, ctx: CallContext, elapsedMs: number): boolean {
  if (rule.model !== '*' && rule.model !== ctx.modelId && rule.model !== ctx.baseId) return false;
  return (
    (rule.fromMs === undefined || elapsedMs >= rule.fromMs) &&
    (rule.toMs === undefined || elapsedMs < rule.toMs)
  );
}

const compiled = new WeakMap<FaultRule, RegExp>();
const regexOf = (rule: FaultRule & { contentFilter: { pattern: string } }): RegExp => {
  let re = compiled.get(rule);
  if (!re) {
    re = new RegExp(rule.contentFilter.pattern, 'i');
    compiled.set(rule, re);
  }
  return re;
};

/**
 * The fault for one call: the first rule that applies and fires decides. Within a rule an
 * outage comes first, then error rates, hangs, content filter, broken and slow streams.
 * @param elapsedMs scaled time since the simulator started
 * @param rand seeded random in [0, 1)
 */
export function decideFault(
  rules: readonly FaultRule[],
  ctx: CallContext,
  elapsedMs: number,
  rand: () => number,
): FaultDecision {
  const streaming = ctx.operation === 'invoke-stream' || ctx.operation === 'converse-stream';
  for (const rule of rules) {
    if (!applies(rule, ctx, elapsedMs)) continue;
    if (rule.outage) return { type: 'error', error: RATE_ERRORS.unavailable!() };
    if (rule.errorRate) {
      let draw = rand();
      for (const [kind, p] of Object.entries(rule.errorRate)) {
        if (p !== undefined && draw < p) return { type: 'error', error: RATE_ERRORS[kind]!() };
        draw -= p ?? 0;
      }
    }
    if (rule.hang && rand() < rule.hang.probability)
      return rule.hang.afterMs === undefined
        ? { type: 'hang' }
        : { type: 'hang', afterMs: rule.hang.afterMs };
    if (
      rule.contentFilter &&
      regexOf(rule as FaultRule & { contentFilter: { pattern: string } }).test(ctx.promptText)
    )
      return { type: 'content_filter' };
    if (streaming && rule.breakStream && rand() < rule.breakStream.probability) {
      return { type: 'break_stream', afterChunks: rule.breakStream.afterChunks, exception: STREAM_BREAK };
    }
    if (streaming && rule.slowStream) return { type: 'slow_stream', factor: rule.slowStream.factor };
  }
  return { type: 'none' };
}
