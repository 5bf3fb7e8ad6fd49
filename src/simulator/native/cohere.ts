import { z } from 'zod';
import { METRICS_KEY, type SimFamily, type SimStop } from './types.js';
import { isSimError, validateNative } from './validate.js';

const Body = z
  .object({
    message: z.string().min(1),
    chat_history: z
      .array(z.object({ role: z.enum(['USER', 'CHATBOT', 'SYSTEM', 'TOOL']), message: z.string() }).loose())
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
  })
  .strict();

const STOP: Record<SimStop, string> = {
  end: 'COMPLETE',
  length: 'MAX_TOKENS',
  stop_sequence: 'STOP_SEQUENCE',
  filtered: 'ERROR_TOXIC',
};

/** Cohere Command R/R+ chat. */
export const cohere: SimFamily = {
  family: 'cohere',

  parse(raw, limits) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const max = body.max_tokens ?? Math.min(4_000, limits.maxOutputTokens);
    if (max > limits.maxOutputTokens) {
      return {
        name: 'ValidationException',
        message: `Malformed input request: #/max_tokens: ${max} is not less or equal to ${limits.maxOutputTokens}, please reformat your input and try again.`,
      };
    }
    const history = (body.chat_history ?? []).map((h) => ({
      role: h.role === 'CHATBOT' ? ('assistant' as const) : ('user' as const),
      text: h.message,
    }));
    return {
      system: body.preamble ?? '',
      turns: [...history, { role: 'user', text: body.message }],
      maxTokens: max,
      stopSequences: body.stop_sequences ?? [],
    };
  },

  respond(g, requestId) {
    return {
      response_id: requestId,
      generation_id: requestId,
      text: g.text,
      finish_reason: STOP[g.stop],
      chat_history: [],
      meta: {
        api_version: { version: '1' },
        billed_units: { input_tokens: g.inputTokens, output_tokens: g.outputTokens },
      },
    };
  },

  chunks(g, pieces, metrics, requestId) {
    return [
      { is_finished: false, event_type: 'stream-start', generation_id: requestId },
      ...pieces.map((p) => ({ is_finished: false, event_type: 'text-generation', text: p })),
      {
        is_finished: true,
        event_type: 'stream-end',
        finish_reason: STOP[g.stop],
        response: cohere.respond(g, requestId),
        [METRICS_KEY]: metrics,
      },
    ];
  },
};
