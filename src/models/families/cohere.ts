import { z } from 'zod';
import type { ChatMessage, StopReason, Usage } from '../request.js';
import {
  defined,
  delta,
  invocationMetrics,
  mapStop,
  maxTokensFor,
  parseAs,
  stops,
  systemText,
  withOverrides,
} from './common.js';
import type { FamilyAdapter } from './types.js';

const STOP: Record<string, StopReason> = {
  COMPLETE: 'end_turn',
  MAX_TOKENS: 'max_tokens',
  STOP_SEQUENCE: 'stop_sequence',
  ERROR_TOXIC: 'content_filtered',
};

const Meta = z
  .object({ billed_units: z.object({ input_tokens: z.number(), output_tokens: z.number() }).optional() })
  .optional();

const Response = z.object({ text: z.string(), finish_reason: z.string().nullish(), meta: Meta });

const Chunk = z.object({
  event_type: z.string().optional(),
  text: z.string().optional(),
  is_finished: z.boolean().optional(),
  finish_reason: z.string().nullish(),
  response: z.object({ meta: Meta }).optional(),
});

const billedUsage = (meta: z.infer<typeof Meta>): Usage | undefined =>
  meta?.billed_units
    ? { inputTokens: meta.billed_units.input_tokens, outputTokens: meta.billed_units.output_tokens }
    : undefined;

/**
 * Splits the turns at the last user turn: Cohere answers `message` and takes everything
 * before it as history. Assistant turns after it cannot be expressed and are left out.
 */
function splitAtLastUserTurn(turns: readonly ChatMessage[]): { message: string; history: ChatMessage[] } {
  const at = turns.findLastIndex((m) => m.role === 'user');
  if (at < 0) return { message: '', history: [...turns] };
  return { message: turns[at]!.content, history: turns.slice(0, at) };
}

/**
 * Cohere Command R/R+ chat (`docs/bedrock-wire.md#cohere-command-r`): the last user turn is `message`, earlier turns
 * are `chat_history` with USER/CHATBOT roles (left out when empty), the system prompt is
 * `preamble`, and `topP` is called `p`.
 */
export const cohere: FamilyAdapter = {
  family: 'cohere',

  toNative(request, model) {
    const { message, history } = splitAtLastUserTurn(request.messages);
    const body = defined({
      message,
      chat_history:
        history.length > 0
          ? history.map((m) => ({ role: m.role === 'user' ? 'USER' : 'CHATBOT', message: m.content }))
          : undefined,
      preamble: systemText(request),
      max_tokens: maxTokensFor(request, model),
      temperature: request.params?.temperature,
      p: request.params?.topP,
      stop_sequences: stops(request),
    });
    return withOverrides(body, request, 'cohere');
  },

  fromNative(body) {
    const r = parseAs('cohere', 'chat response', Response, body);
    const usage = billedUsage(r.meta);
    return { text: r.text, stopReason: mapStop(STOP, r.finish_reason), ...(usage ? { usage } : {}) };
  },

  fromStreamChunk(chunk) {
    const c = parseAs('cohere', 'stream chunk', Chunk, chunk);
    const text = c.event_type === 'text-generation' ? c.text : undefined;
    const stop = c.is_finished && c.finish_reason ? mapStop(STOP, c.finish_reason) : undefined;
    // Bedrock's metrics win; the stream-end event's own billed units are the fallback.
    const usage = { ...billedUsage(c.response?.meta), ...invocationMetrics(chunk) };
    return delta(text, stop, usage);
  },
};
