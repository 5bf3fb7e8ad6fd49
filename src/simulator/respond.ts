import type { Clock } from '../clock.js';
import type { CallOutcome, FaultDecision, SimError, SimulatorControl } from './control.js';
import { converseEvents, converseResponse } from './converse.js';
import { inStreamError, sendError } from './errors-wire.js';
import { chunkEvent, converseEvent, exceptionEvent } from './eventstream.js';
import { generate, pieces } from './generate.js';
import type { AnswerContext, Generation, InvocationMetrics, SimFamily } from './native/types.js';
import type { Call } from './routes.js';
import { dropConnection, endStream, type Reply, sendJson, startStream, writeFrame } from './wire.js';

const NO_USAGE = Object.freeze({ inputTokens: 0, outputTokens: 0 });

/** Nova reports its (unused) prompt cache in two more headers (`docs/bedrock-wire.md#response-headers`). */
const NOVA_CACHE_HEADERS = Object.freeze({
  'X-Amzn-Bedrock-Cache-Read-Input-Token-Count': 0,
  'X-Amzn-Bedrock-Cache-Write-Input-Token-Count': 0,
});

/** Waits on the clock; an abort (client gone, server closing) ends the wait early without throwing. */
async function wait(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await clock.sleep(ms, signal).catch(() => undefined);
}

/** Resolves when the signal aborts: a hung call holds nothing but this listener. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** What {@link respond} needs from the server for every call. */
export interface RespondDeps {
  control: SimulatorControl;
  /** Generation seed: the same seed, model and prompt give the same text. */
  seed: number;
  /** Where latency waits and reported latencies take their time. */
  clock: Clock;
}

/** What one call needs besides its checks: where it answers and since when it runs. */
export interface Exchange {
  reply: Reply;
  /** Aborts when the client goes away or the server closes. */
  signal: AbortSignal;
  /** The clock's time when the request arrived. */
  startedMs: number;
}

const elapsedMs = (clock: Clock, x: Exchange): number => Math.round(clock.now() - x.startedMs);

/**
 * Answers a checked call through the control seam: admission (429 when refused), the fault
 * decided for it, latency (first token, then per-token pacing), then the native or Converse
 * answer, whole or as an event stream. Every call ends in exactly one `settle` (after a
 * granted admission) and one `record`.
 */
export async function respond(call: Call, x: Exchange, deps: RespondDeps): Promise<void> {
  const { control, clock } = deps;
  const { ctx } = call;
  const admission = control.admit(ctx);
  if (!admission.ok) {
    sendError(x.reply, admission.error);
    control.record(ctx, 'throttled', NO_USAGE);
    return;
  }
  let outcome: CallOutcome = 'ok';
  let usage: { inputTokens: number; outputTokens: number } = NO_USAGE;
  let charged = 0;
  try {
    const fault: FaultDecision = control.fault(ctx);
    if (fault.type === 'error') {
      outcome = 'fault';
      sendError(x.reply, fault.error);
      return;
    }
    if (ctx.operation === 'count-tokens') {
      // Counting is free: it takes a request from the quota but no tokens.
      sendJson(x.reply, 200, `{"inputTokens":${ctx.inputTokens}}`);
      return;
    }
    if (fault.type === 'reset') {
      outcome = 'fault';
      dropConnection(x.reply);
      return;
    }
    if (fault.type === 'hang') {
      // A call that is only late (hang with afterMs, slow stream) still ends 'ok'; one that
      // never answers, is filtered or is broken off ends 'fault'.
      if (fault.afterMs === undefined) {
        outcome = 'fault';
        return await untilAborted(x.signal);
      }
      await wait(clock, fault.afterMs, x.signal);
      if (x.signal.aborted) return;
    }
    const filtered = fault.type === 'content_filter';
    if (filtered) outcome = 'fault';
    const g = generate({
      prompt: call.prompt,
      family: call.family,
      baseId: ctx.baseId,
      inputTokens: ctx.inputTokens,
      seed: deps.seed,
      filtered,
    });
    usage = { inputTokens: g.inputTokens, outputTokens: g.outputTokens };
    charged = g.inputTokens + g.outputTokens;
    const latency = control.latency(ctx, g.outputTokens);
    const answer: AnswerContext = { requestId: x.reply.requestId, baseId: ctx.baseId, prompt: call.prompt };

    if (ctx.operation === 'invoke' || ctx.operation === 'converse') {
      await wait(clock, latency.firstTokenMs + latency.perTokenMs * g.outputTokens, x.signal);
      if (x.signal.aborted) return;
      const latencyMs = elapsedMs(clock, x);
      if (ctx.operation === 'converse') sendJson(x.reply, 200, converseResponse(g, latencyMs));
      else
        sendJson(x.reply, 200, nativeFormat(call).respond(g, answer), {
          'X-Amzn-Bedrock-Input-Token-Count': g.inputTokens,
          'X-Amzn-Bedrock-Output-Token-Count': g.outputTokens,
          'X-Amzn-Bedrock-Invocation-Latency': latencyMs,
          ...(call.family === 'nova' ? NOVA_CACHE_HEADERS : {}),
        });
      return;
    }
    const slow = fault.type === 'slow_stream' ? fault.factor : 1;
    if (fault.type === 'break_stream') outcome = 'fault';
    await stream(call, g, answer, x, clock, {
      firstTokenMs: latency.firstTokenMs,
      perTokenMs: latency.perTokenMs * slow,
      ...(fault.type === 'break_stream'
        ? {
            breakAfter: fault.afterChunks,
            exception: inStreamError(
              fault.exception,
              ctx.operation === 'converse-stream' ? 'converse' : 'invoke',
            ),
          }
        : {}),
    });
  } finally {
    control.settle(admission.reservation, charged);
    control.record(ctx, x.signal.aborted && outcome === 'ok' ? 'client_error' : outcome, usage);
  }
}

/** The native format of an InvokeModel call; `prepareCall` refuses InvokeModel without one. */
function nativeFormat(call: Call): SimFamily {
  if (!call.format)
    throw new Error(`no native format for ${call.ctx.baseId}: InvokeModel should have been refused`);
  return call.format;
}

interface StreamPlan {
  firstTokenMs: number;
  perTokenMs: number;
  /** Frames sent before `exception` ends the stream. */
  breakAfter?: number;
  exception?: SimError;
}

/**
 * Streams a generation as event-stream frames: native `chunk` events or ConverseStream
 * events. Without latency every frame goes out in one write, with no timer.
 */
async function stream(
  call: Call,
  g: Generation,
  a: AnswerContext,
  x: Exchange,
  clock: Clock,
  plan: StreamPlan,
): Promise<void> {
  const parts = pieces(g.text);
  const metrics: InvocationMetrics = {
    inputTokenCount: g.inputTokens,
    outputTokenCount: g.outputTokens,
    invocationLatency: 0,
    firstByteLatency: 0,
    // Nova's metrics also count the (unused) prompt cache.
    ...(call.family === 'nova' ? { cacheReadInputTokenCount: 0, cacheWriteInputTokenCount: 0 } : {}),
  };
  const converseMetrics = { latencyMs: 0 };
  let count: number;
  let encode: (i: number) => Uint8Array;
  if (call.ctx.operation === 'converse-stream') {
    const events = converseEvents(g, parts, converseMetrics);
    count = events.length;
    encode = (i) => converseEvent(events[i]!.type, events[i]!.payload, i);
    startStream(x.reply, {});
  } else {
    const chunks = nativeFormat(call).chunks(g, parts, metrics, a);
    count = chunks.length;
    encode = (i) => chunkEvent(chunks[i], i);
    startStream(x.reply, { 'X-Amzn-Bedrock-Content-Type': 'application/json' });
  }
  const sent = plan.breakAfter === undefined ? count : Math.min(count, plan.breakAfter);
  const stamp = (): void => {
    metrics.invocationLatency = elapsedMs(clock, x);
    converseMetrics.latencyMs = metrics.invocationLatency;
  };
  // The first frame goes out at the first-token time, the others spread over the output time.
  const perFrameMs = (plan.perTokenMs * g.outputTokens) / Math.max(1, count - 1);

  if (plan.firstTokenMs <= 0 && perFrameMs <= 0) {
    stamp();
    metrics.firstByteLatency = metrics.invocationLatency;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < sent; i++) frames.push(encode(i));
    if (plan.exception) frames.push(exceptionEvent(plan.exception));
    endStream(x.reply, Buffer.concat(frames));
    return;
  }
  await wait(clock, plan.firstTokenMs, x.signal);
  metrics.firstByteLatency = elapsedMs(clock, x);
  // Each frame waits for its own due time, so timer rounding never adds up over a long stream.
  const firstFrameAt = clock.now();
  for (let i = 0; i < sent; i++) {
    if (i > 0) await wait(clock, firstFrameAt + i * perFrameMs - clock.now(), x.signal);
    if (x.signal.aborted) return;
    stamp();
    writeFrame(x.reply, encode(i));
  }
  endStream(x.reply, plan.exception ? exceptionEvent(plan.exception) : undefined);
}
