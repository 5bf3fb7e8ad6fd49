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
  systemText,
  withOverrides,
} from './common.js';
import type { FamilyAdapter } from './types.js';

const STOP: Record<string, StopReason> = {
  end_turn: 'end_turn',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  content_filtered: 'content_filtered',
  guardrail_intervened: 'content_filtered',
};

const Response = z.object({
  output: z.object({ message: z.object({ content: z.array(z.object({ text: z.string().optional() })) }) }),
  stopReason: z.string(),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }),
});

const Chunk = z.object({
  contentBlockDelta: z.object({ delta: z.object({ text: z.string().optional() }) }).optional(),
  messageStop: z.object({ stopReason: z.string() }).optional(),
  metadata: z
    .object({ usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }).optional() })
    .optional(),
});

/**
 * Amazon Nova `messages-v1` (`docs/bedrock-wire.md#amazon-nova`): each turn's text is one content block, the system
 * prompt a one-block list, and parameters go in `inferenceConfig` under Nova 1's snake-case
 * names (`max_new_tokens`, `top_p`) except `stopSequences`. A job's `native.nova.inferenceConfig`
 * is merged into ours (e.g. `{ top_k: 50 }`).
 */
export const nova: FamilyAdapter = {
  family: 'nova',

  toNative(request, model) {
    const inferenceConfig = defined({
      max_new_tokens: maxTokensFor(request, model),
      temperature: request.params?.temperature,
      top_p: request.params?.topP,
      stopSequences: stops(request),
    });
    const system = systemText(request);
    const body = defined({
      schemaVersion: 'messages-v1',
      system: system ? [{ text: system }] : undefined,
      messages: request.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
      inferenceConfig,
    });
    return withOverrides(body, request, 'nova');
  },

  fromNative(body) {
    const r = parseAs('nova', 'response', Response, body);
    return {
      text: r.output.message.content.map((c) => c.text ?? '').join(''),
      stopReason: mapStop(STOP, r.stopReason),
      usage: { inputTokens: r.usage.inputTokens, outputTokens: r.usage.outputTokens },
    };
  },

  fromStreamChunk(chunk) {
    const c = parseAs('nova', 'stream chunk', Chunk, chunk);
    const usage = { ...invocationMetrics(chunk) };
    if (c.metadata?.usage) {
      usage.inputTokens ??= c.metadata.usage.inputTokens;
      usage.outputTokens ??= c.metadata.usage.outputTokens;
    }
    return delta(
      c.contentBlockDelta?.delta.text,
      c.messageStop ? mapStop(STOP, c.messageStop.stopReason) : undefined,
      usage,
    );
  },
};
