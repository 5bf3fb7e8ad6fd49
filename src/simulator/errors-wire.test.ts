import { describe, expect, it } from 'vitest';
import { contextLengthError } from './errors-wire.js';

const refusal = (family: string, converse = false, nativeBody?: 'prompt' | 'chat' | 'both') =>
  contextLengthError({
    family,
    converse,
    inputTokens: 9279,
    contextWindow: 8192,
    ...(nativeBody ? { nativeBody } : {}),
  });

describe('contextLengthError', () => {
  it("words Claude's refusal as Bedrock's plain text, wrapped by Converse, and raised by Anthropic", () => {
    expect(refusal('anthropic')).toEqual({
      name: 'ValidationException',
      message: 'Input is too long for requested model.',
      fromProvider: true,
    });
    expect(refusal('anthropic', true)).toEqual({
      name: 'ValidationException',
      message: 'The model returned the following errors: Input is too long for requested model.',
    });
  });

  it('names the limit and the count where the model does', () => {
    expect(refusal('titan').message).toBe(
      '400 Bad Request: Too many input tokens. Max input tokens: 8192, request input token count: 9279 ',
    );
    expect(refusal('llama').message).toBe(
      "This model's maximum context length is 8192 tokens. Please reduce the length of the prompt",
    );
    expect(refusal('mistral', false, 'chat').message).toBe(
      'Prompt contains 9279 tokens and 0 draft tokens, too large for model with 8192 maximum context length',
    );
  });

  it("keeps Bedrock's plain text where no model wording is known", () => {
    for (const [family, body] of [
      ['mistral', 'prompt'],
      ['cohere', undefined],
      ['nova', undefined],
    ] as const) {
      expect(refusal(family, false, body).message).toBe('Input is too long for requested model.');
    }
  });
});
