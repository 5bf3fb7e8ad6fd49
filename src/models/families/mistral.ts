import { z } from 'zod';
import type { ModelInfo } from '../info.js';
import type { ModelRequest, StopReason } from '../request.js';
import {
  defined,
  delta,
  invocationMetrics,
  mapStop,
  maxTokensFor,
  parseAs,
  stops,
  systemText,
  withOverrides,
} from './common.js';
import type { FamilyAdapter, NativeBody } from './types.js';

const STOP: Record<string, StopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  model_length: 'max_tokens',
};

const Output = z.object({ text: z.string(), stop_reason: z.string().nullish() });
/** One chat choice: the whole message in an answer, a piece of it in a stream chunk. */
const Choice = z.object({
  message: z.object({ content: z.string().nullish() }),
  stop_reason: z.string().nullish(),
});
/** Either body's answer: `outputs` (text completion) or `choices` (chat). */
const Response = z.object({
  outputs: z.array(Output).min(1).optional(),
  choices: z.array(Choice).min(1).optional(),
});
const Chunk = z.object({ outputs: z.array(Output).optional(), choices: z.array(Choice).optional() });

/**
 * Mistral's instruction template. There is no system role: the system text opens the first
 * user turn, as Mistral's own template does.
 *
 *     <s>[INST] {system}\n\n{u1} [/INST] {a1}</s>[INST] {u2} [/INST]
 */
export function mistralPrompt(request: ModelRequest): string {
  const system = systemText(request);
  let prompt = '<s>';
  let first = true;
  for (const m of request.messages) {
    if (m.role === 'user') {
      const text = first && system ? `${system}\n\n${m.content}` : m.content;
      prompt += `[INST] ${text} [/INST]`;
      first = false;
    } else {
      prompt += ` ${m.content}</s>`;
    }
  }
  return prompt;
}

/** The text-completion body: the templated prompt and every parameter it has. */
function promptBody(request: ModelRequest, model: ModelInfo): NativeBody {
  return defined({
    prompt: mistralPrompt(request),
    max_tokens: maxTokensFor(request, model),
    temperature: request.params?.temperature,
    top_p: request.params?.topP,
    stop: stops(request),
  });
}

/**
 * The chat-completion body: roles instead of a template, the system prompt as a `system`
 * message. The chat schema has no stop sequences, so a job's are left out.
 */
function chatBody(request: ModelRequest, model: ModelInfo): NativeBody {
  const system = systemText(request);
  return defined({
    messages: [...(system ? [{ role: 'system', content: system }] : []), ...request.messages],
    max_tokens: maxTokensFor(request, model),
    temperature: request.params?.temperature,
    top_p: request.params?.topP,
  });
}

/**
 * Mistral (`docs/bedrock-wire.md#mistral`): the text-completion body `{ prompt, max_tokens,
 * temperature?, top_p?, stop? }` with the prompt of {@link mistralPrompt}, or, for the models
 * that take only the chat body (catalog `nativeBody: 'chat'`, e.g. Mistral Large 2), `{ messages,
 * max_tokens, temperature?, top_p? }`. Neither answer has token counts: usage comes from the
 * response headers or the stream's invocation metrics.
 */
export const mistral: FamilyAdapter = {
  family: 'mistral',

  toNative(request, model) {
    const body = model.nativeBody === 'chat' ? chatBody(request, model) : promptBody(request, model);
    return withOverrides(body, request, 'mistral');
  },

  fromNative(body) {
    const r = parseAs('mistral', 'response', Response, body);
    const output = r.outputs?.[0];
    if (output) return { text: output.text, stopReason: mapStop(STOP, output.stop_reason) };
    const choice = r.choices?.[0];
    if (!choice) throw new Error('unexpected mistral response: missing outputs (or choices)');
    return { text: choice.message.content ?? '', stopReason: mapStop(STOP, choice.stop_reason) };
  },

  fromStreamChunk(chunk) {
    const c = parseAs('mistral', 'stream chunk', Chunk, chunk);
    const out = c.outputs?.[0];
    const choice = c.choices?.[0];
    const stop = out?.stop_reason ?? choice?.stop_reason;
    return delta(
      out?.text ?? choice?.message.content,
      stop ? mapStop(STOP, stop) : undefined,
      invocationMetrics(chunk),
    );
  },
};
