import { setTimeout as sleep } from 'node:timers/promises';
import type { CallOutcome, FaultDecision, SimError, SimulatorControl } from './control.js';
import { chunkEvent, converseEvent, exceptionEvent } from './eventstream.js';
import { generate, pieces } from './generate.js';
import { SIM_FAMILIES } from './native/index.js';
import type { Generation, InvocationMetrics, SimStop } from './native/types.js';
import type { Call } from './routes.js';
import { endStream, type Reply, sendError, sendJson, startStream, writeFrame } from './wire.js';

const CONVERSE_STOP: Record<SimStop, string> = {
  end: 'end_turn',
  length: 'max_tokens',
  stop_sequence: 'stop_sequence',
  filtered: 'content_filtered',
};

/** Waits real time unless it is zero; an abort (client gone, server closing) ends the wait early. */
async function wait(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

export interface ServeDeps {
  control: SimulatorControl;
  seed: number;
}

/**
 * Answers a checked call: quota admission, faults, latency, then the native (or Converse)
 * answer, whole or as an event stream. Every call ends in exactly one `record`.
 */
export async function serve(call: Call, reply: Reply, signal: AbortSignal, deps: ServeDeps): Promise<void> {
  const { control } = deps;
  const { ctx } = call;
  const started = performance.now();
  let outcome: CallOutcome = 'ok';
  let usage = { inputTokens: ctx.inputTokens, outputTokens: 0 };

  if (ctx.operation === 'count-tokens') {
    sendJson(reply, 200, { inputTokens: ctx.inputTokens });
    control.record(ctx, 'ok', { inputTokens: 0, outputTokens: 0 });
    return;
  }
  const admission = control.admit(ctx);
  if (!admission.ok) {
    sendError(reply, admission.error);
    control.record(ctx, 'throttled', { inputTokens: 0, outputTokens: 0 });
    return;
  }
  let actualTokens = 0;
  try {
    const fault: FaultDecision = control.fault(ctx);
    if (fault.type === 'error') {
      outcome = 'fault';
      sendError(reply, fault.error);
      return;
    }
    if (fault.type === 'hang') {
      outcome = 'fault';
      if (fault.afterMs === undefined) {
        await new Promise<void>((resolve) =>
          signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        return;
      }
      await wait(fault.afterMs, signal);
      if (signal.aborted) return;
    }
    const g = generate({
      prompt: call.prompt,
      family: call.family,
      inputTokens: ctx.inputTokens,
      seed: deps.seed,
      filtered: fault.type === 'content_filter',
    });
    if (fault.type === 'content_filter') outcome = 'fault';
    usage = { inputTokens: g.inputTokens, outputTokens: g.outputTokens };
    actualTokens = g.inputTokens + g.outputTokens;
    const latency = control.latency(ctx, g.outputTokens);
    const slow = fault.type === 'slow_stream' ? fault.factor : 1;
    const brk = fault.type === 'break_stream' ? fault : undefined;
    if (brk) outcome = 'fault';
    if (ctx.operation === 'invoke' || ctx.operation === 'converse') {
      await wait(latency.firstTokenMs + latency.perTokenMs * g.outputTokens, signal);
      if (signal.aborted) return;
      const latencyMs = Math.round(performance.now() - started);
      if (ctx.operation === 'converse') sendJson(reply, 200, converseBody(g, latencyMs));
      else
        sendJson(
          reply,
          200,
          SIM_FAMILIES[call.family].respond(g, reply.requestId),
          usageHeaders(g, latencyMs),
        );
      return;
    }
    await stream(
      call,
      g,
      reply,
      signal,
      { firstTokenMs: latency.firstTokenMs, perTokenMs: latency.perTokenMs * slow, started },
      brk?.exception,
      brk?.afterChunks,
    );
  } finally {
    control.settle(admission.reservation, actualTokens);
    control.record(ctx, signal.aborted && outcome === 'ok' ? 'client_error' : outcome, usage);
  }
}

function usageHeaders(g: Generation, latencyMs: number): Record<string, string> {
  return {
    'x-amzn-bedrock-input-token-count': String(g.inputTokens),
    'x-amzn-bedrock-output-token-count': String(g.outputTokens),
    'x-amzn-bedrock-invocation-latency': String(latencyMs),
  };
}

function converseBody(g: Generation, latencyMs: number): Record<string, unknown> {
  return {
    output: { message: { role: 'assistant', content: [{ text: g.text }] } },
    stopReason: CONVERSE_STOP[g.stop],
    usage: {
      inputTokens: g.inputTokens,
      outputTokens: g.outputTokens,
      totalTokens: g.inputTokens + g.outputTokens,
    },
    metrics: { latencyMs },
  };
}

interface Pace {
  firstTokenMs: number;
  perTokenMs: number;
  started: number;
}

async function stream(
  call: Call,
  g: Generation,
  reply: Reply,
  signal: AbortSignal,
  pace: Pace,
  breakWith?: SimError,
  breakAfter?: number,
): Promise<void> {
  const parts = pieces(g.text);
  const converse = call.ctx.operation === 'converse-stream';
  // One metrics object, referenced by the last frame and filled in just before it is encoded.
  const metrics: InvocationMetrics = {
    inputTokenCount: g.inputTokens,
    outputTokenCount: g.outputTokens,
    invocationLatency: 0,
    firstByteLatency: 0,
  };
  const usage = {
    inputTokens: g.inputTokens,
    outputTokens: g.outputTokens,
    totalTokens: g.inputTokens + g.outputTokens,
  };
  const frames: (() => Uint8Array)[] = [];
  if (converse) {
    frames.push(() => converseEvent('messageStart', { role: 'assistant' }, 7));
    for (const [i, p] of parts.entries())
      frames.push(() => converseEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: p } }, i));
    frames.push(() => converseEvent('contentBlockStop', { contentBlockIndex: 0 }, 3));
    frames.push(() => converseEvent('messageStop', { stopReason: CONVERSE_STOP[g.stop] }, 5));
    frames.push(() =>
      converseEvent('metadata', { usage, metrics: { latencyMs: metrics.invocationLatency } }, 9),
    );
  } else {
    for (const [i, chunk] of SIM_FAMILIES[call.family].chunks(g, parts, metrics, reply.requestId).entries()) {
      frames.push(() => chunkEvent(chunk, i * 7));
    }
  }
  startStream(reply, converse ? {} : { 'x-amzn-bedrock-content-type': 'application/json' });
  const perFrameMs = (pace.perTokenMs * g.outputTokens) / Math.max(1, frames.length);
  await wait(pace.firstTokenMs, signal);
  metrics.firstByteLatency = Math.round(performance.now() - pace.started);
  for (const [i, make] of frames.entries()) {
    if (signal.aborted) return;
    if (breakWith && breakAfter !== undefined && i >= breakAfter) {
      writeFrame(reply, exceptionEvent(breakWith));
      break;
    }
    if (i > 0) await wait(perFrameMs, signal);
    metrics.invocationLatency = Math.round(performance.now() - pace.started);
    writeFrame(reply, make());
  }
  endStream(reply);
}
