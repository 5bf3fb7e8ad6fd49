import { z } from 'zod';
import { simError } from '../control.js';
import { METRICS_KEY, type SimFamily, type SimStop } from './types.js';
import { isSimError, validateNative } from './validate.js';

const Block = z
  .object({ text: z.string().optional(), image: z.unknown().optional(), cachePoint: z.unknown().optional() })
  .strict();

const Body = z
  .object({
    schemaVersion: z.literal('messages-v1').optional(),
    system: z.array(z.object({ text: z.string() }).strict()).optional(),
    messages: z
      .array(z.object({ role: z.enum(['user', 'assistant']), content: z.array(Block).min(1) }).strict())
      .min(1),
    inferenceConfig: z
      .object({
        max_new_tokens: z.number().int().min(1).optional(),
        maxTokens: z.number().int().min(1).optional(),
        temperature: z.number().min(0).max(1).optional(),
        top_p: z.number().min(0).max(1).optional(),
        topP: z.number().min(0).max(1).optional(),
        top_k: z.number().int().min(0).optional(),
        topK: z.number().int().min(0).optional(),
        stopSequences: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    toolConfig: z.unknown().optional(),
  })
  .strict();

const STOP: Record<SimStop, string> = {
  end: 'end_turn',
  length: 'max_tokens',
  stop_sequence: 'stop_sequence',
  filtered: 'content_filtered',
};

/** Amazon Nova `messages-v1`. */
export const nova: SimFamily = {
  family: 'nova',

  parse(raw, limits) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    if (body.messages[0]?.role !== 'user')
      return simError(
        'ValidationException',
        'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      );
    const max =
      body.inferenceConfig?.max_new_tokens ??
      body.inferenceConfig?.maxTokens ??
      Math.min(5_000, limits.maxOutputTokens);
    if (max > limits.maxOutputTokens) {
      return simError(
        'ValidationException',
        `Malformed input request: #/inferenceConfig/max_new_tokens: ${max} is not less or equal to ${limits.maxOutputTokens}, please reformat your input and try again.`,
      );
    }
    return {
      system: (body.system ?? []).map((s) => s.text).join('\n'),
      turns: body.messages.map((m) => ({ role: m.role, text: m.content.map((c) => c.text ?? '').join('') })),
      maxTokens: max,
      stopSequences: body.inferenceConfig?.stopSequences ?? [],
    };
  },

  respond(g) {
    return {
      output: { message: { role: 'assistant', content: [{ text: g.text }] } },
      stopReason: STOP[g.stop],
      usage: {
        inputTokens: g.inputTokens,
        outputTokens: g.outputTokens,
        totalTokens: g.inputTokens + g.outputTokens,
        cacheReadInputTokenCount: 0,
        cacheWriteInputTokenCount: 0,
      },
    };
  },

  chunks(g, pieces, metrics) {
    return [
      { messageStart: { role: 'assistant' } },
      ...pieces.map((p) => ({ contentBlockDelta: { delta: { text: p }, contentBlockIndex: 0 } })),
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: STOP[g.stop] } },
      {
        metadata: {
          usage: { inputTokens: g.inputTokens, outputTokens: g.outputTokens },
          metrics: {},
          trace: {},
        },
        [METRICS_KEY]: metrics,
      },
    ];
  },
};
