import { z } from 'zod';
import { METRICS_KEY, type SimFamily, type SimStop } from './types.js';
import { isSimError, validateNative } from './validate.js';

const Body = z
  .object({
    inputText: z.string().min(1),
    textGenerationConfig: z
      .object({
        temperature: z.number().min(0).max(1).optional(),
        topP: z.number().min(0).max(1).optional(),
        maxTokenCount: z.number().int().min(0).optional(),
        stopSequences: z.array(z.enum(['|', 'User:'])).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const STOP: Record<SimStop, string> = {
  end: 'FINISHED',
  length: 'LENGTH',
  stop_sequence: 'STOP_CRITERIA_MET',
  filtered: 'CONTENT_FILTERED',
};

/**
 * Splits a `User: … / Bot: …` transcript back into turns; text before the first turn is the
 * system text. Input without any turn marker is one user turn.
 */
function transcript(input: string): {
  system: string;
  turns: { role: 'user' | 'assistant'; text: string }[];
} {
  const parts = input.split(/(?:^|\n)(User|Bot):[ ]?/);
  if (parts.length === 1) return { system: '', turns: [{ role: 'user', text: input }] };
  const turns: { role: 'user' | 'assistant'; text: string }[] = [];
  for (let i = 1; i + 1 < parts.length; i += 2) {
    turns.push({ role: parts[i] === 'User' ? 'user' : 'assistant', text: parts[i + 1] ?? '' });
  }
  // The open `Bot:` that asks for the answer is not a turn.
  if (turns.at(-1)?.role === 'assistant' && turns.at(-1)?.text.trim() === '') turns.pop();
  return { system: (parts[0] ?? '').trim(), turns };
}

/** Amazon Titan Text. */
export const titan: SimFamily = {
  family: 'titan',

  parse(raw, limits) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const max = body.textGenerationConfig?.maxTokenCount ?? 512;
    if (max > limits.maxOutputTokens) {
      return {
        name: 'ValidationException',
        message: `Malformed input request: #/textGenerationConfig/maxTokenCount: ${max} is not less or equal to ${limits.maxOutputTokens}, please reformat your input and try again.`,
      };
    }
    return {
      ...transcript(body.inputText),
      maxTokens: max,
      stopSequences: body.textGenerationConfig?.stopSequences ?? [],
    };
  },

  respond(g) {
    return {
      inputTextTokenCount: g.inputTokens,
      results: [{ tokenCount: g.outputTokens, outputText: g.text, completionReason: STOP[g.stop] }],
    };
  },

  chunks(g, pieces, metrics) {
    let count = 0;
    const perPiece = pieces.length > 0 ? g.outputTokens / pieces.length : 0;
    return pieces.map((p, i) => {
      const last = i === pieces.length - 1;
      count = last ? g.outputTokens : Math.round(perPiece * (i + 1));
      return {
        outputText: p,
        index: 0,
        totalOutputTextTokenCount: count,
        completionReason: last ? STOP[g.stop] : null,
        inputTextTokenCount: i === 0 ? g.inputTokens : null,
        ...(last ? { [METRICS_KEY]: metrics } : {}),
      };
    });
  },
};
