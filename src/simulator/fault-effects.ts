import type { Random } from '../random.js';
import type { CallContext, FaultDecision, SimError } from './control.js';
import { simError } from './control.js';
import { type CompiledFault, inForce } from './fault-match.js';
import { ERROR_KINDS, type ErrorKind, type FaultKind, type StreamException } from './fault-rule.js';

/** The exception and message Bedrock answers with for each error kind. */
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

function streamException(kind: StreamException, modelId: string): SimError {
  // `validation`: what Claude streams when it refuses a request that Bedrock let through.
  if (kind === 'validation') return simError('ValidationException', 'Input is too long for requested model.');
  return kind === 'modelStreamError'
    ? simError('ModelStreamErrorException', 'The model stream was interrupted. Try your request again.', {
        originalStatusCode: 500,
        originalMessage: 'simulated stream failure',
      })
    : errorFor(kind, modelId);
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
 * cumulative probabilities), hang, reset, content filter, broken stream, slow stream. Stream
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
    if (!inForce(fault, ctx, scaledNowMs)) continue;
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
    if (rule.reset && fires(rule.reset.probability, random))
      return { decision: { type: 'reset' }, kind: 'reset' };
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
