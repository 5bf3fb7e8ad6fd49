import { z } from 'zod';
import { simError } from '../control.js';
import { METRICS_KEY, type SimFamily, type SimStop } from './types.js';
import { isSimError, validateNative } from './validate.js';

const TextBlock = z.object({
  type: z.literal('text'),
  text: z.string(),
  cache_control: z.unknown().optional(),
});
const Content = z.union([z.string(), z.array(z.union([TextBlock, z.object({ type: z.string() }).loose()]))]);

const Body = z
  .object({
    anthropic_version: z.literal('bedrock-2023-05-31'),
    max_tokens: z.number().int().min(1),
    messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: Content })).min(1),
    system: z.union([z.string(), z.array(TextBlock)]).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).max(500).optional(),
    stop_sequences: z.array(z.string()).optional(),
    tools: z.array(z.unknown()).optional(),
    tool_choice: z.unknown().optional(),
    thinking: z.unknown().optional(),
    anthropic_beta: z.array(z.string()).optional(),
    metadata: z.unknown().optional(),
  })
  .strict();

const text = (content: z.infer<typeof Content>): string =>
  typeof content === 'string'
    ? content
    : content.map((b) => ('text' in b && typeof b.text === 'string' ? b.text : '')).join('');

const STOP: Record<SimStop, string> = {
  end: 'end_turn',
  length: 'max_tokens',
  stop_sequence: 'stop_sequence',
  filtered: 'refusal',
};

/** Claude Messages API, validated the way Anthropic's API does behind Bedrock. */
export const anthropic: SimFamily = {
  family: 'anthropic',

  parse(raw, limits) {
    if (typeof raw === 'object' && raw !== null && ('model' in raw || 'stream' in raw)) {
      return simError(
        'ValidationException',
        `${'model' in raw ? 'model' : 'stream'}: Extra inputs are not permitted`,
      );
    }
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    if (body.max_tokens > limits.maxOutputTokens) {
      return simError(
        'ValidationException',
        `max_tokens: ${body.max_tokens} > ${limits.maxOutputTokens}, which is the maximum allowed number of output tokens for this model`,
      );
    }
    if (body.messages[0]?.role !== 'user')
      return simError('ValidationException', 'messages: first message must use the "user" role');
    for (let i = 1; i < body.messages.length; i++) {
      if (body.messages[i]?.role === body.messages[i - 1]?.role) {
        return simError(
          'ValidationException',
          `messages: roles must alternate between "user" and "assistant", but found multiple "${body.messages[i]?.role}" roles in a row`,
        );
      }
    }
    return {
      system:
        body.system === undefined
          ? ''
          : typeof body.system === 'string'
            ? body.system
            : body.system.map((b) => b.text).join('\n'),
      turns: body.messages.map((m) => ({ role: m.role, text: text(m.content) })),
      maxTokens: body.max_tokens,
      stopSequences: body.stop_sequences ?? [],
    };
  },

  respond(g, requestId) {
    return {
      id: `msg_bdrk_${requestId.replaceAll('-', '').slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [{ type: 'text', text: g.text }],
      stop_reason: STOP[g.stop],
      stop_sequence: g.stopSequence ?? null,
      usage: { input_tokens: g.inputTokens, output_tokens: g.outputTokens },
    };
  },

  chunks(g, pieces, metrics, requestId) {
    const start = {
      type: 'message_start',
      message: {
        id: `msg_bdrk_${requestId.slice(0, 8)}`,
        type: 'message',
        role: 'assistant',
        model: 'claude',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: g.inputTokens, output_tokens: 1 },
      },
    };
    return [
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      ...pieces.map((p) => ({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: p },
      })),
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: STOP[g.stop], stop_sequence: g.stopSequence ?? null },
        usage: { output_tokens: g.outputTokens },
      },
      { type: 'message_stop', [METRICS_KEY]: metrics },
    ];
  },
};
