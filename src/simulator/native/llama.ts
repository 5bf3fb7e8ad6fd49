import { z } from 'zod';
import { METRICS_KEY, type SimFamily, type SimStop, type Turn } from './types.js';
import { isSimError, overMaximum, validateNative } from './validate.js';

/** Llama's default `max_gen_len` (`docs/bedrock-wire.md#meta-llama-3`). */
const DEFAULT_MAX_TOKENS = 512;

const Body = z.strictObject({
  prompt: z.string().min(1),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  max_gen_len: z.number().int().min(1).optional(),
  images: z.array(z.string()).optional(),
});

const KEYS: ReadonlySet<string> = new Set(Object.keys(Body.shape));

/**
 * Llama has no stop-sequence parameter and no content-filter signal on Bedrock: a filtered
 * call answers empty text with `stop`, as a model that declines silently would.
 */
const STOP: Readonly<Record<SimStop, string>> = {
  end: 'stop',
  length: 'length',
  stop_sequence: 'stop',
  filtered: 'stop',
};

const TURN = /<\|start_header_id\|>(system|user|assistant)<\|end_header_id\|>\n\n([\s\S]*?)<\|eot_id\|>/g;

/**
 * Reads the Llama 3 chat template back into turns (the open assistant header at the end is
 * not a turn); a prompt without the template is one user turn.
 */
export function llamaTurns(prompt: string): { system: string; turns: Turn[] } {
  let system = '';
  const turns: Turn[] = [];
  for (const m of prompt.matchAll(TURN)) {
    if (m[1] === 'system') system = m[2] ?? '';
    else turns.push({ role: m[1] === 'user' ? 'user' : 'assistant', text: m[2] ?? '' });
  }
  return turns.length > 0 || system
    ? { system, turns }
    : { system: '', turns: [{ role: 'user', text: prompt }] };
}

/** Meta Llama 3.x: a raw prompt (the caller applies the template), schema-validated. */
export const llama: SimFamily = {
  family: 'llama',

  parse(raw, model) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const max = body.max_gen_len ?? Math.min(DEFAULT_MAX_TOKENS, model.maxOutputTokens);
    if (max > model.maxOutputTokens) return overMaximum('max_gen_len', max, model.maxOutputTokens);
    return { ...llamaTurns(body.prompt), maxTokens: max, stopSequences: [] };
  },

  keys: () => KEYS,

  respond(g) {
    return {
      generation: g.text,
      prompt_token_count: g.inputTokens,
      generation_token_count: g.outputTokens,
      stop_reason: STOP[g.stop],
    };
  },

  chunks(g, pieces, metrics) {
    const perPiece = pieces.length > 0 ? g.outputTokens / pieces.length : 0;
    return pieces.map((generation, i) => {
      const last = i === pieces.length - 1;
      return {
        generation,
        prompt_token_count: i === 0 ? g.inputTokens : null,
        generation_token_count: last ? g.outputTokens : Math.round(perPiece * (i + 1)),
        stop_reason: last ? STOP[g.stop] : null,
        ...(last ? { [METRICS_KEY]: metrics } : {}),
      };
    });
  },
};
