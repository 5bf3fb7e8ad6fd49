import { z } from 'zod';
import type { StopReason, Usage } from '../request.js';
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

/** Bedrock's required version string for the Claude Messages API. */
const ANTHROPIC_VERSION = 'bedrock-2023-05-31';

const STOP: Record<string, StopReason> = {
  end_turn: 'end_turn',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  refusal: 'content_filtered',
  // Newer models stop here when the context fills up: for the caller it is a length cut.
  model_context_window_exceeded: 'max_tokens',
};

const Response = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullable(),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }),
});

const Chunk = z.object({
  type: z.string(),
  message: z.object({ usage: z.object({ input_tokens: z.number().optional() }).optional() }).optional(),
  delta: z
    .object({ type: z.string().optional(), text: z.string().optional(), stop_reason: z.string().nullish() })
    .optional(),
  usage: z.object({ output_tokens: z.number().optional() }).optional(),
});

/**
 * Claude Messages API (`docs/bedrock-wire.md#anthropic-claude`). The system prompt is a top-level string and each turn
 * keeps its role with plain string content. There is no `model` or `stream` field: Bedrock
 * takes those from the path and the operation, and refuses them in the body.
 */
export const anthropic: FamilyAdapter = {
  family: 'anthropic',

  toNative(request, model) {
    const body = defined({
      anthropic_version: ANTHROPIC_VERSION,
      max_tokens: maxTokensFor(request, model),
      system: systemText(request),
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      temperature: request.params?.temperature,
      top_p: request.params?.topP,
      stop_sequences: stops(request),
    });
    return withOverrides(body, request, 'anthropic');
  },

  fromNative(body) {
    const r = parseAs('anthropic', 'Messages response', Response, body);
    // Tool-use and thinking blocks carry no answer text.
    const text = r.content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join('');
    return {
      text,
      stopReason: mapStop(STOP, r.stop_reason),
      usage: { inputTokens: r.usage.input_tokens, outputTokens: r.usage.output_tokens },
    };
  },

  fromStreamChunk(chunk) {
    const c = parseAs('anthropic', 'stream chunk', Chunk, chunk);
    const usage: Partial<Usage> = invocationMetrics(chunk);
    if (c.type === 'message_start' && c.message?.usage?.input_tokens !== undefined)
      usage.inputTokens ??= c.message.usage.input_tokens;
    if (c.type === 'message_delta' && c.usage?.output_tokens !== undefined)
      usage.outputTokens ??= c.usage.output_tokens;
    const text =
      c.type === 'content_block_delta' && c.delta?.type === 'text_delta' ? c.delta.text : undefined;
    const stop =
      c.type === 'message_delta' && c.delta?.stop_reason ? mapStop(STOP, c.delta.stop_reason) : undefined;
    return delta(text, stop, usage);
  },
};
