import { z } from 'zod';
import type { ModelRequest, StopReason } from '../request.js';
import {
  defined,
  delta,
  invocationMetrics,
  mapStop,
  maxTokensFor,
  parseAs,
  systemText,
  withOverrides,
} from './common.js';
import type { FamilyAdapter } from './types.js';

const STOP: Record<string, StopReason> = { stop: 'end_turn', length: 'max_tokens' };

const Response = z.object({
  generation: z.string(),
  prompt_token_count: z.number().nullable(),
  generation_token_count: z.number().nullable(),
  stop_reason: z.string().nullable(),
});

const Chunk = z.object({
  generation: z.string().optional(),
  prompt_token_count: z.number().nullish(),
  generation_token_count: z.number().nullish(),
  stop_reason: z.string().nullish(),
});

const header = (role: string): string => `<|start_header_id|>${role}<|end_header_id|>\n\n`;

/**
 * The Llama 3 chat template. Bedrock does not apply it for InvokeModel, so we do:
 *
 *     <|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>
 *     <|start_header_id|>user<|end_header_id|>\n\n{u1}<|eot_id|> … <|start_header_id|>assistant<|end_header_id|>\n\n
 */
export function llamaPrompt(request: ModelRequest): string {
  let prompt = '<|begin_of_text|>';
  const system = systemText(request);
  if (system) prompt += `${header('system')}${system}<|eot_id|>`;
  for (const m of request.messages) prompt += `${header(m.role)}${m.content}<|eot_id|>`;
  return prompt + header('assistant');
}

/**
 * Meta Llama 3.x (`docs/bedrock-wire.md#meta-llama-3`): `{ prompt, max_gen_len, temperature?, top_p? }` with the
 * prompt of {@link llamaPrompt}. Bedrock's Llama body has no stop-sequence parameter, so a
 * job's stop sequences are dropped (the model still stops at its own `<|eot_id|>`).
 */
export const llama: FamilyAdapter = {
  family: 'llama',

  toNative(request, model) {
    const body = defined({
      prompt: llamaPrompt(request),
      max_gen_len: maxTokensFor(request, model),
      temperature: request.params?.temperature,
      top_p: request.params?.topP,
    });
    return withOverrides(body, request, 'llama');
  },

  fromNative(body) {
    const r = parseAs('llama', 'response', Response, body);
    const counted = r.prompt_token_count !== null && r.generation_token_count !== null;
    return {
      text: r.generation,
      stopReason: mapStop(STOP, r.stop_reason),
      ...(counted
        ? { usage: { inputTokens: r.prompt_token_count ?? 0, outputTokens: r.generation_token_count ?? 0 } }
        : {}),
    };
  },

  fromStreamChunk(chunk) {
    const c = parseAs('llama', 'stream chunk', Chunk, chunk);
    const usage = { ...invocationMetrics(chunk) };
    if (typeof c.prompt_token_count === 'number') usage.inputTokens ??= c.prompt_token_count;
    // generation_token_count is a running total: only the last chunk's is the output count.
    if (c.stop_reason && typeof c.generation_token_count === 'number')
      usage.outputTokens ??= c.generation_token_count;
    return delta(c.generation, c.stop_reason ? mapStop(STOP, c.stop_reason) : undefined, usage);
  },
};
