import { z } from 'zod';
import {
  type AnswerContext,
  type Generation,
  METRICS_KEY,
  type SimFamily,
  type SimStop,
  type Turn,
} from './types.js';
import { isSimError, overMaximum, validateNative } from './validate.js';

const Body = z.strictObject({
  message: z.string().min(1),
  chat_history: z
    .array(z.looseObject({ role: z.enum(['USER', 'CHATBOT', 'SYSTEM', 'TOOL']), message: z.string() }))
    .optional(),
  preamble: z.string().optional(),
  documents: z.array(z.record(z.string(), z.string())).optional(),
  search_queries_only: z.boolean().optional(),
  max_tokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(1).optional(),
  p: z.number().min(0).max(0.99).optional(),
  k: z.number().int().min(0).max(500).optional(),
  prompt_truncation: z.enum(['OFF', 'AUTO_PRESERVE_ORDER']).optional(),
  frequency_penalty: z.number().min(0).max(1).optional(),
  presence_penalty: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  return_prompt: z.boolean().optional(),
  stop_sequences: z.array(z.string()).max(4).optional(),
  raw_prompting: z.boolean().optional(),
  tools: z.array(z.unknown()).optional(),
  tool_results: z.array(z.unknown()).optional(),
});

const STOP: Readonly<Record<SimStop, string>> = {
  end: 'COMPLETE',
  length: 'MAX_TOKENS',
  stop_sequence: 'STOP_SEQUENCE',
  filtered: 'ERROR_TOXIC',
};

const KEYS: ReadonlySet<string> = new Set(Object.keys(Body.shape));

const chatRole = (t: Turn): 'USER' | 'CHATBOT' => (t.role === 'user' ? 'USER' : 'CHATBOT');

/** The chat response without usage: Bedrock's non-streaming body has no `meta`. */
function chatResponse(g: Generation, a: AnswerContext): Record<string, unknown> {
  const history = a.prompt.turns.map((t) => ({ role: chatRole(t), message: t.text }));
  return {
    response_id: a.requestId,
    text: g.text,
    generation_id: a.requestId,
    chat_history: [...history, { role: 'CHATBOT', message: g.text }],
    finish_reason: STOP[g.stop],
  };
}

/** Cohere Command R/R+ chat (`docs/bedrock-wire.md#cohere-command-r`), schema-validated. */
export const cohere: SimFamily = {
  family: 'cohere',

  parse(raw, model) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const max = body.max_tokens ?? model.maxOutputTokens;
    if (max > model.maxOutputTokens) return overMaximum('max_tokens', max, model.maxOutputTokens);
    const history: Turn[] = (body.chat_history ?? []).map((h) => ({
      role: h.role === 'CHATBOT' ? 'assistant' : 'user',
      text: h.message,
    }));
    // Grounding documents are input the model reads, so they count as prompt.
    const documents = (body.documents ?? []).map((d) => Object.values(d).join('\n'));
    return {
      system: [body.preamble ?? '', ...documents].filter((s) => s.length > 0).join('\n'),
      turns: [...history, { role: 'user', text: body.message }],
      maxTokens: max,
      stopSequences: body.stop_sequences ?? [],
    };
  },

  keys: () => KEYS,

  /**
   * No `meta` here: Bedrock documents Cohere's usage data as streaming-only, and the bodies
   * captured from the service have none (`docs/bedrock-wire.md#cohere-command-r`). Usage comes
   * from the response headers.
   */
  respond: chatResponse,

  chunks(g, pieces, metrics, a) {
    const out: Record<string, unknown>[] = [
      { is_finished: false, event_type: 'stream-start', generation_id: a.requestId },
    ];
    for (const text of pieces) {
      if (text.length > 0) out.push({ is_finished: false, event_type: 'text-generation', text });
    }
    out.push({
      is_finished: true,
      event_type: 'stream-end',
      finish_reason: STOP[g.stop],
      response: {
        ...chatResponse(g, a),
        meta: {
          api_version: { version: '1' },
          billed_units: { input_tokens: g.inputTokens, output_tokens: g.outputTokens },
        },
      },
      [METRICS_KEY]: metrics,
    });
    return out;
  },
};
