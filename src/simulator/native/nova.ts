import { z } from 'zod';
import { simError } from '../control.js';
import { METRICS_KEY, type SimFamily, type SimStop } from './types.js';
import { isSimError, overMaximum, validateNative } from './validate.js';

/** Nova's output budget when the body names none, capped at the model's (`docs/bedrock-wire.md#amazon-nova`). */
const DEFAULT_MAX_TOKENS = 5_000;

const Block = z.strictObject({
  text: z.string().optional(),
  image: z.unknown().optional(),
  video: z.unknown().optional(),
  document: z.unknown().optional(),
  toolUse: z.unknown().optional(),
  toolResult: z.unknown().optional(),
  reasoningContent: z.unknown().optional(),
  cachePoint: z.unknown().optional(),
});

const Body = z.strictObject({
  schemaVersion: z.literal('messages-v1').optional(),
  system: z
    .array(z.strictObject({ text: z.string().optional(), cachePoint: z.unknown().optional() }))
    .optional(),
  messages: z
    .array(z.strictObject({ role: z.enum(['user', 'assistant']), content: z.array(Block).min(1) }))
    .min(1),
  inferenceConfig: z
    .strictObject({
      max_new_tokens: z.number().int().min(1).optional(),
      maxTokens: z.number().int().min(1).optional(),
      temperature: z.number().min(0).max(1).optional(),
      top_p: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      top_k: z.number().int().min(0).optional(),
      topK: z.number().int().min(0).optional(),
      stopSequences: z.array(z.string()).optional(),
    })
    .optional(),
  toolConfig: z.unknown().optional(),
});

const KEYS: ReadonlySet<string> = new Set(Object.keys(Body.shape));

const STOP: Readonly<Record<SimStop, string>> = {
  end: 'end_turn',
  length: 'max_tokens',
  stop_sequence: 'stop_sequence',
  filtered: 'content_filtered',
};

/** Amazon Nova `messages-v1` (`docs/bedrock-wire.md#amazon-nova`), schema-validated. */
export const nova: SimFamily = {
  family: 'nova',

  parse(raw, model) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    if (body.messages[0]?.role !== 'user') {
      return simError(
        'ValidationException',
        'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      );
    }
    const config = body.inferenceConfig;
    const max =
      config?.max_new_tokens ?? config?.maxTokens ?? Math.min(DEFAULT_MAX_TOKENS, model.maxOutputTokens);
    if (max > model.maxOutputTokens)
      return overMaximum('inferenceConfig/max_new_tokens', max, model.maxOutputTokens);
    return {
      system: (body.system ?? []).map((s) => s.text ?? '').join('\n'),
      turns: body.messages.map((m) => ({ role: m.role, text: m.content.map((c) => c.text ?? '').join('') })),
      maxTokens: max,
      stopSequences: config?.stopSequences ?? [],
    };
  },

  keys: () => KEYS,

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

  /**
   * Unlike ConverseStream, the native stream makes every text delta a content block of its own:
   * delta and stop at index 0, then at 1, ... The usage reports the (unused) prompt cache.
   */
  chunks(g, pieces, metrics) {
    const out: Record<string, unknown>[] = [{ messageStart: { role: 'assistant' } }];
    let block = 0;
    for (const text of pieces) {
      if (text.length === 0) continue;
      out.push(
        { contentBlockDelta: { delta: { text }, contentBlockIndex: block } },
        { contentBlockStop: { contentBlockIndex: block } },
      );
      block += 1;
    }
    out.push(
      { messageStop: { stopReason: STOP[g.stop] } },
      {
        metadata: {
          usage: {
            inputTokens: g.inputTokens,
            outputTokens: g.outputTokens,
            cacheReadInputTokenCount: 0,
            cacheWriteInputTokenCount: 0,
          },
          metrics: {},
          trace: {},
        },
        [METRICS_KEY]: metrics,
      },
    );
    return out;
  },
};
