import { z } from 'zod';
import { providerRefusal, type SimError } from '../control.js';
import { METRICS_KEY, type SimFamily, type SimStop, type Turn } from './types.js';
import { isSimError, validateNative } from './validate.js';

const Block = z.looseObject({ type: z.string(), text: z.string().optional() });
const Content = z.union([z.string(), z.array(Block)]);
const SystemBlock = z.looseObject({ type: z.literal('text'), text: z.string() });

/** Every top-level key Bedrock lets through to Claude; anything else (`model`, `stream`) is refused. */
const Body = z.strictObject({
  anthropic_version: z.literal('bedrock-2023-05-31'),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.strictObject({ role: z.enum(['user', 'assistant']), content: Content })),
  system: z.union([z.string(), z.array(SystemBlock)]).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).max(500).optional(),
  stop_sequences: z.array(z.string()).optional(),
  tools: z.array(z.unknown()).optional(),
  tool_choice: z.unknown().optional(),
  thinking: z.unknown().optional(),
  anthropic_beta: z.array(z.string()).optional(),
  metadata: z.unknown().optional(),
});

const STOP: Readonly<Record<SimStop, string>> = {
  end: 'end_turn',
  length: 'max_tokens',
  stop_sequence: 'stop_sequence',
  filtered: 'refusal',
};

function textOf(content: z.infer<typeof Content>): string {
  if (typeof content === 'string') return content;
  let out = '';
  for (const block of content) if (block.type === 'text' && block.text !== undefined) out += block.text;
  return out;
}

/** `anthropic.claude-3-haiku-20240307-v1:0` → `claude-3-haiku-20240307`, as Claude names itself. */
export function claudeModelName(baseId: string): string {
  return baseId.replace(/^anthropic\./, '').replace(/-v\d+(?::\d+)?$/, '');
}

const KEYS: ReadonlySet<string> = new Set(Object.keys(Body.shape));

/** Anthropic's own checks behind Bedrock; their messages pass through unchanged. */
function conversationError(turns: readonly Turn[]): SimError | undefined {
  if (turns.length === 0) return providerRefusal('messages: at least one message is required');
  if (turns[0]?.role !== 'user') return providerRefusal('messages: first message must use the "user" role');
  for (let i = 1; i < turns.length; i++) {
    if (turns[i]?.role === turns[i - 1]?.role) {
      return providerRefusal(
        `messages: roles must alternate between "user" and "assistant", but found multiple "${turns[i]?.role}" roles in a row`,
      );
    }
  }
  return undefined;
}

/** Anthropic refuses a text block (or string content) that is empty or only whitespace. */
function emptyTextError(messages: readonly { content: z.infer<typeof Content> }[]): SimError | undefined {
  for (const { content } of messages) {
    const texts =
      typeof content === 'string'
        ? [content]
        : content.flatMap((b) => (b.type === 'text' ? [b.text ?? ''] : []));
    for (const text of texts) {
      if (text.length === 0) return providerRefusal('messages: text content blocks must be non-empty');
      if (text.trim().length === 0)
        return providerRefusal('messages: text content blocks must contain non-whitespace text');
    }
  }
  return undefined;
}

/**
 * Claude Messages API (`docs/bedrock-wire.md#anthropic-claude`): Bedrock's schema check (no
 * `model`/`stream`, required `anthropic_version`, `max_tokens`, `messages`), then Anthropic's
 * (empty text, max output, roles), whose refusals a response stream carries in-stream.
 */
export const anthropic: SimFamily = {
  family: 'anthropic',

  parse(raw, model) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const empty = emptyTextError(body.messages);
    if (empty) return empty;
    if (body.max_tokens > model.maxOutputTokens) {
      return providerRefusal(
        `max_tokens: ${body.max_tokens} > ${model.maxOutputTokens}, which is the maximum allowed number of output tokens for ${claudeModelName(model.baseId)}`,
      );
    }
    const turns = body.messages.map((m) => ({ role: m.role, text: textOf(m.content) }));
    const wrong = conversationError(turns);
    if (wrong) return wrong;
    const system =
      body.system === undefined
        ? ''
        : typeof body.system === 'string'
          ? body.system
          : body.system.map((b) => b.text).join('\n');
    return { system, turns, maxTokens: body.max_tokens, stopSequences: body.stop_sequences ?? [] };
  },

  keys: () => KEYS,

  respond(g, a) {
    return {
      id: `msg_bdrk_${a.requestId.replaceAll('-', '').slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model: claudeModelName(a.baseId),
      content: [{ type: 'text', text: g.text }],
      stop_reason: STOP[g.stop],
      stop_sequence: g.stopSequence ?? null,
      usage: {
        input_tokens: g.inputTokens,
        output_tokens: g.outputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    };
  },

  chunks(g, pieces, metrics, a) {
    const out: Record<string, unknown>[] = [
      {
        type: 'message_start',
        message: {
          id: `msg_bdrk_${a.requestId.replaceAll('-', '').slice(0, 24)}`,
          type: 'message',
          role: 'assistant',
          model: claudeModelName(a.baseId),
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: g.inputTokens, output_tokens: 1 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    ];
    for (const text of pieces) {
      if (text.length > 0)
        out.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
    }
    out.push(
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: STOP[g.stop], stop_sequence: g.stopSequence ?? null },
        usage: { output_tokens: g.outputTokens },
      },
      { type: 'message_stop', [METRICS_KEY]: metrics },
    );
    return out;
  },
};
