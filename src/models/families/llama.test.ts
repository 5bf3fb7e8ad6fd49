import { describe, expect, it } from 'vitest';
import { conversation } from '../../../test/helpers/conversation.js';
import { ModelCatalog } from '../catalog.js';
import { llama, llamaPrompt } from './llama.js';

const llama70b = new ModelCatalog().get('llama3-70b')!;

const answer = {
  generation: 'Hello! How can I help?',
  prompt_token_count: 24,
  generation_token_count: 8,
  stop_reason: 'stop',
};

describe('llama.toNative', () => {
  it('builds the Llama 3 chat template token for token and drops stop sequences', () => {
    expect(llama.toNative(conversation, llama70b)).toEqual({
      prompt:
        '<|begin_of_text|>' +
        '<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWhat is Bedrock?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nA managed model service.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nName two families.<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
      max_gen_len: 300,
      temperature: 0.2,
      top_p: 0.9,
    });
  });

  it('has no system header without a system prompt', () => {
    expect(llamaPrompt({ messages: [{ role: 'user', content: 'Hi' }] })).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('caps max_gen_len at the model limit of 2048', () => {
    const body = llama.toNative({ ...conversation, params: { maxTokens: 100_000 } }, llama70b);

    expect(body.max_gen_len).toBe(2048);
  });

  it('adds its own native fields only', () => {
    const body = llama.toNative(
      { ...conversation, native: { llama: { images: ['aGk='] }, mistral: { top_k: 50 } } },
      llama70b,
    );

    expect(body).toEqual({ ...llama.toNative(conversation, llama70b), images: ['aGk='] });
  });
});

describe('llama.fromNative', () => {
  it('reads the generation and token counts', () => {
    expect(llama.fromNative(answer)).toEqual({
      text: 'Hello! How can I help?',
      stopReason: 'end_turn',
      usage: { inputTokens: 24, outputTokens: 8 },
    });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    [null, 'other'],
  ])('maps stop_reason %s to %s', (native, unified) => {
    expect(llama.fromNative({ ...answer, stop_reason: native }).stopReason).toBe(unified);
  });

  it('reports no usage when the counts are null', () => {
    expect(llama.fromNative({ ...answer, prompt_token_count: null })).toEqual({
      text: 'Hello! How can I help?',
      stopReason: 'end_turn',
    });
  });

  it('refuses a Mistral answer, naming the family', () => {
    expect(() => llama.fromNative({ outputs: [{ text: 'x', stop_reason: 'stop' }] })).toThrow(
      'unexpected llama response: missing generation',
    );
  });
});

describe('llama.fromStreamChunk', () => {
  it('reads the prompt count from the first chunk and the final metrics', () => {
    const chunks = [
      { generation: 'Hello', prompt_token_count: 24, generation_token_count: 1, stop_reason: null },
      { generation: '!', prompt_token_count: null, generation_token_count: 2, stop_reason: null },
      {
        generation: '',
        prompt_token_count: null,
        generation_token_count: 3,
        stop_reason: 'length',
        'amazon-bedrock-invocationMetrics': {
          inputTokenCount: 24,
          outputTokenCount: 3,
          invocationLatency: 500,
          firstByteLatency: 150,
        },
      },
    ];

    expect(chunks.map((c) => llama.fromStreamChunk(c))).toEqual([
      { text: 'Hello', usage: { inputTokens: 24 } },
      { text: '!' },
      { stopReason: 'max_tokens', usage: { inputTokens: 24, outputTokens: 3 } },
    ]);
  });

  it('takes the running generation count of the last chunk as output when there are no metrics', () => {
    expect(
      llama.fromStreamChunk({ generation: '.', generation_token_count: 7, stop_reason: 'stop' }),
    ).toEqual({ text: '.', stopReason: 'end_turn', usage: { outputTokens: 7 } });
  });
});
