import { z } from 'zod';
import type { SimError } from '../control.js';
import {
  type Generation,
  type InvocationMetrics,
  METRICS_KEY,
  type ModelLimits,
  type ParsedPrompt,
  type SimFamily,
  type SimStop,
  type Turn,
} from './types.js';
import { isSimError, overMaximum, validateNative } from './validate.js';

/** Mistral's default `max_tokens` for the 7B/Mixtral models (`docs/bedrock-wire.md#mistral`). */
const DEFAULT_MAX_TOKENS = 512;

/** The text-completion body (Mistral 7B, Mixtral, Small, Large 24.02). */
const PromptBody = z.strictObject({
  prompt: z.string().min(1),
  max_tokens: z.number().int().min(1).optional(),
  stop: z.array(z.string()).max(10).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(1).max(200).optional(),
});

/** The chat-completion body (Large 24.02, and the only one of Large 2 24.07): no `stop`, no `top_k`. */
const ChatBody = z.strictObject({
  messages: z
    .array(
      z.strictObject({
        role: z.enum(['system', 'user', 'assistant', 'tool']),
        content: z.string(),
        tool_calls: z.array(z.unknown()).optional(),
        tool_call_id: z.string().optional(),
      }),
    )
    .min(1),
  tools: z.array(z.unknown()).optional(),
  tool_choice: z.enum(['auto', 'any', 'none']).optional(),
  max_tokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
});

const PROMPT_KEYS: ReadonlySet<string> = new Set(Object.keys(PromptBody.shape));
const CHAT_KEYS: ReadonlySet<string> = new Set(Object.keys(ChatBody.shape));
const BOTH_KEYS: ReadonlySet<string> = new Set([...PROMPT_KEYS, ...CHAT_KEYS]);

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

/** Which body a call uses: the model's only form, or, for a model with both, the one the body has. */
function formOf(raw: unknown, model: ModelLimits): 'prompt' | 'chat' {
  const forms = model.nativeBody ?? 'prompt';
  if (forms !== 'both') return forms;
  return typeof raw === 'object' && raw !== null && 'messages' in raw ? 'chat' : 'prompt';
}

const maxTokensOf = (max: number | undefined, model: ModelLimits): number =>
  max ?? Math.min(DEFAULT_MAX_TOKENS, model.maxOutputTokens);

function parseChat(raw: unknown, model: ModelLimits): ParsedPrompt | SimError {
  const body = validateNative(ChatBody, raw);
  if (isSimError(body)) return body;
  const max = maxTokensOf(body.max_tokens, model);
  if (max > model.maxOutputTokens) return overMaximum('max_tokens', max, model.maxOutputTokens);
  const system = body.messages.filter((m) => m.role === 'system').map((m) => m.content);
  const turns: Turn[] = body.messages
    .filter((m) => m.role !== 'system')
    .map((m) => ({ role: m.role === 'assistant' ? 'assistant' : 'user', text: m.content }));
  return { system: system.join('\n'), turns, maxTokens: max, stopSequences: [], form: 'chat' };
}

/** One chat choice: the whole message in an answer, a piece of it in a stream chunk. */
const choice = (content: string, stopReason: string | null) => ({
  index: 0,
  message: { role: 'assistant', content },
  stop_reason: stopReason,
});

function chatChunks(g: Generation, pieces: readonly string[], metrics: InvocationMetrics) {
  return pieces.map((text, i) => {
    const last = i === pieces.length - 1;
    return {
      choices: [choice(text, last ? STOP[g.stop] : null)],
      ...(last ? { [METRICS_KEY]: metrics } : {}),
    };
  });
}

/**
 * Mistral (`docs/bedrock-wire.md#mistral`): the text-completion body, or the chat body for the
 * models that take it (catalog `nativeBody`), each answered in its own shape. Token counts
 * are only in headers and stream metrics.
 */
export const mistral: SimFamily = {
  family: 'mistral',

  parse(raw, model) {
    if (formOf(raw, model) === 'chat') return parseChat(raw, model);
    const body = validateNative(PromptBody, raw);
    if (isSimError(body)) return body;
    const max = maxTokensOf(body.max_tokens, model);
    if (max > model.maxOutputTokens) return overMaximum('max_tokens', max, model.maxOutputTokens);
    return { system: '', turns: mistralTurns(body.prompt), maxTokens: max, stopSequences: body.stop ?? [] };
  },

  keys(model) {
    const forms = model.nativeBody ?? 'prompt';
    return forms === 'both' ? BOTH_KEYS : forms === 'chat' ? CHAT_KEYS : PROMPT_KEYS;
  },

  respond(g, a) {
    if (a.prompt.form === 'chat') return { choices: [choice(g.text, STOP[g.stop])] };
    return { outputs: [{ text: g.text, stop_reason: STOP[g.stop] }] };
  },

  chunks(g, pieces, metrics, a) {
    if (a.prompt.form === 'chat') return chatChunks(g, pieces, metrics);
    return pieces.map((text, i) => {
      const last = i === pieces.length - 1;
      return {
        outputs: [{ text, stop_reason: last ? STOP[g.stop] : null }],
        ...(last ? { [METRICS_KEY]: metrics } : {}),
      };
    });
  },
};
