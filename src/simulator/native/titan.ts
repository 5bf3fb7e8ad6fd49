import { z } from 'zod';
import { METRICS_KEY, type SimFamily, type SimStop, type Turn } from './types.js';
import { isSimError, overMaximum, validateNative } from './validate.js';

/** Titan's default `maxTokenCount` when the body names none (`docs/bedrock-wire.md#amazon-titan-text`). */
const DEFAULT_MAX_TOKENS = 512;

const Body = z.strictObject({
  inputText: z.string().min(1),
  textGenerationConfig: z
    .strictObject({
      temperature: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      maxTokenCount: z.number().int().min(0).optional(),
      // Titan accepts only these two stop sequences (`docs/bedrock-wire.md#amazon-titan-text`).
      stopSequences: z.array(z.enum(['|', 'User:'])).optional(),
    })
    .optional(),
});

const KEYS: ReadonlySet<string> = new Set(Object.keys(Body.shape));

/** `FINISH`, not the `FINISHED` of AWS's model page: what the service sends (`docs/bedrock-wire.md#amazon-titan-text`). */
const STOP: Readonly<Record<SimStop, string>> = {
  end: 'FINISH',
  length: 'LENGTH',
  stop_sequence: 'STOP_CRITERIA_MET',
  filtered: 'CONTENT_FILTERED',
};

const MARKER = /(?:^|\n)(User|Bot):[ ]?/;

/**
 * Splits a `User: … / Bot: …` transcript back into turns; text before the first marker is the
 * system text. Input without any marker is one user turn.
 */
export function titanTurns(input: string): { system: string; turns: Turn[] } {
  const parts = input.split(MARKER);
  if (parts.length === 1) return { system: '', turns: [{ role: 'user', text: input }] };
  const turns: Turn[] = [];
  for (let i = 1; i + 1 < parts.length; i += 2) {
    turns.push({ role: parts[i] === 'User' ? 'user' : 'assistant', text: parts[i + 1] ?? '' });
  }
  // The open `Bot:` that asks for the answer is not a turn.
  const last = turns.at(-1);
  if (last?.role === 'assistant' && last.text.trim() === '') turns.pop();
  return { system: (parts[0] ?? '').trim(), turns };
}

/** Amazon Titan Text: `{ inputText, textGenerationConfig }`, schema-validated. */
export const titan: SimFamily = {
  family: 'titan',

  parse(raw, model) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const max =
      body.textGenerationConfig?.maxTokenCount ?? Math.min(DEFAULT_MAX_TOKENS, model.maxOutputTokens);
    if (max > model.maxOutputTokens)
      return overMaximum('textGenerationConfig/maxTokenCount', max, model.maxOutputTokens);
    return {
      ...titanTurns(body.inputText),
      maxTokens: max,
      stopSequences: body.textGenerationConfig?.stopSequences ?? [],
    };
  },

  keys: () => KEYS,

  respond(g) {
    return {
      inputTextTokenCount: g.inputTokens,
      results: [{ tokenCount: g.outputTokens, outputText: g.text, completionReason: STOP[g.stop] }],
    };
  },

  chunks(g, pieces, metrics) {
    // Only the last chunk counts the output; earlier ones say null, as the input count does after the first.
    return pieces.map((outputText, i) => {
      const last = i === pieces.length - 1;
      return {
        outputText,
        index: 0,
        totalOutputTextTokenCount: last ? g.outputTokens : null,
        completionReason: last ? STOP[g.stop] : null,
        inputTextTokenCount: i === 0 ? g.inputTokens : null,
        ...(last ? { [METRICS_KEY]: metrics } : {}),
      };
    });
  },
};
