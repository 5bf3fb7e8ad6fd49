import { z } from 'zod';
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
import type { FamilyAdapter } from './types.js';

const STOP: Record<string, StopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  model_length: 'max_tokens',
};

const Output = z.object({ text: z.string(), stop_reason: z.string().nullish() });
const Response = z.object({ outputs: z.array(Output).min(1) });
const Chunk = z.object({ outputs: z.array(Output).optional() });

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

/**
 * Mistral text completion (`docs/bedrock-wire.md#mistral`): `{ prompt, max_tokens, temperature?, top_p?, stop? }`
 * with the prompt of {@link mistralPrompt}. The answer body has no token counts: usage comes
 * from the response headers or the stream's invocation metrics.
 */
export const mistral: FamilyAdapter = {
  family: 'mistral',

  toNative(request, model) {
    const body = defined({
      prompt: mistralPrompt(request),
      max_tokens: maxTokensFor(request, model),
      temperature: request.params?.temperature,
      top_p: request.params?.topP,
      stop: stops(request),
    });
    return withOverrides(body, request, 'mistral');
  },

  fromNative(body) {
    const r = parseAs('mistral', 'response', Response, body);
    const first = r.outputs[0]!;
    return { text: first.text, stopReason: mapStop(STOP, first.stop_reason) };
  },

  fromStreamChunk(chunk) {
    const c = parseAs('mistral', 'stream chunk', Chunk, chunk);
    const out = c.outputs?.[0];
    return delta(
      out?.text,
      out?.stop_reason ? mapStop(STOP, out.stop_reason) : undefined,
      invocationMetrics(chunk),
    );
  },
};
