import { z } from 'zod';
import type { StopReason } from '../request.js';
import {
  defined,
  delta,
  invocationMetrics,
  mapStop,
  maxTokensFor,
  parseAs,
  stops,
  withOverrides,
} from './common.js';
import type { FamilyAdapter } from './types.js';

const STOP: Record<string, StopReason> = {
  COMPLETE: 'end_turn',
  MAX_TOKENS: 'max_tokens',
  STOP_SEQUENCE: 'stop_sequence',
  ERROR_TOXIC: 'content_filtered',
};

const Response = z.object({
  text: z.string(),
  finish_reason: z.string().nullish(),
  meta: z
    .object({ billed_units: z.object({ input_tokens: z.number(), output_tokens: z.number() }).optional() })
    .optional(),
});

const Chunk = z.object({
  event_type: z.string().optional(),
  text: z.string().optional(),
  is_finished: z.boolean().optional(),
  finish_reason: z.string().nullish(),
});

/**
 * Cohere Command R/R+ chat (reference §3.6): the last user turn is `message`, earlier turns
 * are `chat_history` with USER/CHATBOT roles, the system prompt is `preamble`.
 */
export const cohere: FamilyAdapter = {
  family: 'cohere',

  toNative(request, model) {
    const turns = request.messages;
    const last = turns[turns.length - 1];
    const history = turns
      .slice(0, -1)
      .map((m) => ({ role: m.role === 'user' ? 'USER' : 'CHATBOT', message: m.content }));
    const body = defined({
      message: last?.content ?? '',
      chat_history: history.length > 0 ? history : undefined,
      preamble: request.system,
      max_tokens: maxTokensFor(request, model),
      temperature: request.params?.temperature,
      p: request.params?.topP,
      stop_sequences: stops(request),
    });
    return withOverrides(body, request, 'cohere');
  },

  fromNative(body) {
    const r = parseAs('cohere', 'chat response', Response, body);
    const billed = r.meta?.billed_units;
    return {
      text: r.text,
      stopReason: mapStop(STOP, r.finish_reason),
      ...(billed ? { usage: { inputTokens: billed.input_tokens, outputTokens: billed.output_tokens } } : {}),
    };
  },

  fromStreamChunk(chunk) {
    const c = parseAs('cohere', 'stream chunk', Chunk, chunk);
    const text = c.event_type === 'text-generation' ? c.text : undefined;
    const stop = c.is_finished && c.finish_reason ? mapStop(STOP, c.finish_reason) : undefined;
    return delta(text, stop, invocationMetrics(chunk));
  },
};
