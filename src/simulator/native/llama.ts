import { z } from 'zod';
import { METRICS_KEY, type ParsedPrompt, type SimFamily, type SimStop } from './types.js';
import { isSimError, validateNative } from './validate.js';

const Body = z
  .object({
    prompt: z.string().min(1),
    temperature: z.number().min(0).max(1).optional(),
    top_p: z.number().min(0).max(1).optional(),
    max_gen_len: z.number().int().min(1).optional(),
    images: z.array(z.string()).optional(),
  })
  .strict();

const STOP: Record<SimStop, string> = {
  end: 'stop',
  length: 'length',
  stop_sequence: 'stop',
  filtered: 'stop',
};
const TURN = /<\|start_header_id\|>(system|user|assistant)<\|end_header_id\|>\n\n([\s\S]*?)<\|eot_id\|>/g;

/** Reads the Llama 3 chat template back into turns; a raw prompt is one user turn. */
function template(prompt: string): Pick<ParsedPrompt, 'system' | 'turns'> {
  let system = '';
  const turns: ParsedPrompt['turns'] = [];
  for (const m of prompt.matchAll(TURN)) {
    if (m[1] === 'system') system = m[2] ?? '';
    else turns.push({ role: m[1] === 'user' ? 'user' : 'assistant', text: m[2] ?? '' });
  }
  return turns.length > 0 ? { system, turns } : { system: '', turns: [{ role: 'user', text: prompt }] };
}

/** Meta Llama 3.x: a raw prompt (the caller applies the template), no stop parameter. */
export const llama: SimFamily = {
  family: 'llama',

  parse(raw, limits) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const max = body.max_gen_len ?? 512;
    if (max > limits.maxOutputTokens) {
      return {
        name: 'ValidationException',
        message: `Malformed input request: #/max_gen_len: ${max} is not less or equal to ${limits.maxOutputTokens}, please reformat your input and try again.`,
      };
    }
    return { ...template(body.prompt), maxTokens: max, stopSequences: [] };
  },

  respond(g) {
    return {
      generation: g.text,
      prompt_token_count: g.inputTokens,
      generation_token_count: g.outputTokens,
      stop_reason: STOP[g.stop],
    };
  },

  chunks(g, pieces, metrics) {
    return pieces.map((p, i) => {
      const last = i === pieces.length - 1;
      return {
        generation: p,
        prompt_token_count: i === 0 ? g.inputTokens : null,
        generation_token_count: last ? g.outputTokens : i + 1,
        stop_reason: last ? STOP[g.stop] : null,
        ...(last ? { [METRICS_KEY]: metrics } : {}),
      };
    });
  },
};
