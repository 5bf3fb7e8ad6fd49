import { z } from 'zod';
import { METRICS_KEY, type SimFamily, type SimStop, type Turn } from './types.js';
import { isSimError, overMaximum, validateNative } from './validate.js';

/** Mistral's default `max_tokens` for the 7B/Mixtral models (`docs/bedrock-wire.md#mistral`). */
const DEFAULT_MAX_TOKENS = 512;

/** The text-completion body; the chat (`messages`) form of newer Mistral models is not simulated. */
const Body = z.strictObject({
  prompt: z.string().min(1),
  max_tokens: z.number().int().min(1).optional(),
  stop: z.array(z.string()).max(10).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(1).max(200).optional(),
});

/**
 * Mistral names no stop-sequence or content-filter reason: a stop sequence ends with `stop`,
 * and a filtered call answers empty text with `stop`.
 */
const STOP: Readonly<Record<SimStop, string>> = {
  end: 'stop',
  length: 'length',
  stop_sequence: 'stop',
  filtered: 'stop',
};

const OPEN = '[INST]';
const CLOSE = '[/INST]';

/**
 * Reads `<s>[INST] u1 [/INST] a1</s>[INST] u2 [/INST]` back into turns (a system text is part
 * of the first user turn, as Mistral's template has no system role); a prompt without
 * `[INST]` is one user turn.
 */
export function mistralTurns(prompt: string): Turn[] {
  let at = prompt.indexOf(OPEN);
  if (at < 0) return [{ role: 'user', text: prompt }];
  const turns: Turn[] = [];
  while (at >= 0) {
    const close = prompt.indexOf(CLOSE, at + OPEN.length);
    if (close < 0) {
      turns.push({ role: 'user', text: prompt.slice(at + OPEN.length).trim() });
      break;
    }
    turns.push({ role: 'user', text: prompt.slice(at + OPEN.length, close).trim() });
    const next = prompt.indexOf(OPEN, close + CLOSE.length);
    const answer = prompt
      .slice(close + CLOSE.length, next < 0 ? undefined : next)
      .replaceAll('</s>', '')
      .replaceAll('<s>', '')
      .trim();
    if (answer) turns.push({ role: 'assistant', text: answer });
    at = next;
  }
  return turns;
}

/** Mistral text completion; token counts only in headers and stream metrics. */
export const mistral: SimFamily = {
  family: 'mistral',

  parse(raw, model) {
    const body = validateNative(Body, raw);
    if (isSimError(body)) return body;
    const max = body.max_tokens ?? Math.min(DEFAULT_MAX_TOKENS, model.maxOutputTokens);
    if (max > model.maxOutputTokens) return overMaximum('max_tokens', max, model.maxOutputTokens);
    return { system: '', turns: mistralTurns(body.prompt), maxTokens: max, stopSequences: body.stop ?? [] };
  },

  respond(g) {
    return { outputs: [{ text: g.text, stop_reason: STOP[g.stop] }] };
  },

  chunks(g, pieces, metrics) {
    return pieces.map((text, i) => {
      const last = i === pieces.length - 1;
      return {
        outputs: [{ text, stop_reason: last ? STOP[g.stop] : null }],
        ...(last ? { [METRICS_KEY]: metrics } : {}),
      };
    });
  },
};
