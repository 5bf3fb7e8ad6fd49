import { z } from 'zod';
import { METRICS_KEY, type ParsedPrompt, type SimFamily, type SimStop } from './types.js';
import { isSimError, validateNative } from './validate.js';

const Body = z
  .object({
    prompt: z.string().min(1),
    max_tokens: z.number().int().min(1).optional(),
    stop: z.array(z.string()).max(10).optional(),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(1).max(200).optional(),
  })
  .strict();

const STOP: Record<SimStop, string> = {
  end: 'stop',
  length: 'length',
  stop_sequence: 'stop',
  filtered: 'stop',
};
const BLOCK = /\[INST\]\s?([\s\S]*?)\s?\[\/INST\]([^[]*?)(?:<\/s>|$)/g;

/** Reads `<s>[INST] u1 [/INST] a1</s>[INST] u2 [/INST]` back into turns. */
function template(prompt: string): Pick<ParsedPrompt, 'system' | 'turns'> {
  const turns: ParsedPrompt['turns'] = [];
  for (const m of prompt.matchAll(BLOCK)) {
    turns.push({ role: 'user', text: m[1] ?? '' });
    const answer = (m[2] ?? '').trim();
    if (answer) turns.push({ role: 'assistant', text: answer });
  }
  return { system: '', turns: turns.length > 0 ? turns : [{ role: 'user', text: prompt }] };
}

/** Mistral text completion; token counts only in headers and stream metrics. */
export const mistral: SimFamily = {
  family: 'mistral',

  parse(raw, limits) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const max = body.max_tokens ?? 512;
    if (max > limits.maxOutputTokens) {
      return {
        name: 'ValidationException',
        message: `Malformed input request: #/max_tokens: ${max} is not less or equal to ${limits.maxOutputTokens}, please reformat your input and try again.`,
      };
    }
    return { ...template(body.prompt), maxTokens: max, stopSequences: body.stop ?? [] };
  },

  respond(g) {
    return { outputs: [{ text: g.text, stop_reason: STOP[g.stop] }] };
  },

  chunks(g, pieces, metrics) {
    return pieces.map((p, i) => {
      const last = i === pieces.length - 1;
      return {
        outputs: [{ text: p, stop_reason: last ? STOP[g.stop] : null }],
        ...(last ? { [METRICS_KEY]: metrics } : {}),
      };
    });
  },
};
