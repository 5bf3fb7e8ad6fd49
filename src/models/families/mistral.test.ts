import { describe, expect, it } from 'vitest';
import { conversation } from '../../../test/helpers/conversation.js';
import { ModelCatalog } from '../catalog.js';
import { mistral, mistralPrompt } from './mistral.js';

const catalog = new ModelCatalog();
const mistral7b = catalog.get('mistral-7b')!;
const large2 = catalog.get('mistral.mistral-large-2407-v1:0')!;

describe('mistral.toNative', () => {
  it('builds the [INST] template token for token, with the system text opening the first turn', () => {
    expect(mistral.toNative(conversation, mistral7b)).toEqual({
      prompt:
        '<s>[INST] You are terse.\n\nWhat is Bedrock? [/INST] A managed model service.</s>' +
        '[INST] Name two families. [/INST]',
      max_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END', 'User:'],
    });
  });

  it('builds a single-turn prompt without a system prompt and leaves out unset parameters', () => {
    expect(mistral.toNative({ messages: [{ role: 'user', content: 'Hi' }] }, mistral7b)).toEqual({
      prompt: '<s>[INST] Hi [/INST]',
      max_tokens: 512,
    });
  });

  it('puts the system text in the first user turn only', () => {
    const prompt = mistralPrompt({
      system: 'S',
      messages: [
        { role: 'user', content: 'u1' },
        { role: 'assistant', content: 'a1' },
        { role: 'user', content: 'u2' },
        { role: 'assistant', content: 'a2' },
        { role: 'user', content: 'u3' },
      ],
    });

    expect(prompt).toBe('<s>[INST] S\n\nu1 [/INST] a1</s>[INST] u2 [/INST] a2</s>[INST] u3 [/INST]');
  });

  it('adds a native top_k and ignores the other families', () => {
    const body = mistral.toNative(
      { ...conversation, native: { mistral: { top_k: 50 }, anthropic: { top_k: 5 }, cohere: { k: 10 } } },
      mistral7b,
    );

    expect(body).toEqual({ ...mistral.toNative(conversation, mistral7b), top_k: 50 });
  });
});

describe('mistral.toNative for a chat-only model (Mistral Large 2)', () => {
  it('sends roles as chat messages, the system prompt first, and no stop sequences', () => {
    expect(mistral.toNative(conversation, large2)).toEqual({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is Bedrock?' },
        { role: 'assistant', content: 'A managed model service.' },
        { role: 'user', content: 'Name two families.' },
      ],
      max_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
    });
  });
});

describe('mistral.toNative for a Mistral model the catalog does not list', () => {
  it('sends the chat body, the only one Mistral models added after Large 24.02 take', () => {
    const pixtral = catalog.resolve('us.mistral.pixtral-large-2502-v1:0')!;

    const body = mistral.toNative({ messages: [{ role: 'user', content: 'Hi' }] }, pixtral.info);

    expect(body).toEqual({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 512 });
  });
});

describe('mistral.fromNative', () => {
  it('reads the first output; the body has no token counts', () => {
    expect(mistral.fromNative({ outputs: [{ text: ' Mayonnaise.', stop_reason: 'stop' }] })).toEqual({
      text: ' Mayonnaise.',
      stopReason: 'end_turn',
    });
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['model_length', 'max_tokens'],
    ['tool_calls', 'other'],
  ])('maps stop_reason %s to %s', (native, unified) => {
    expect(mistral.fromNative({ outputs: [{ text: '', stop_reason: native }] }).stopReason).toBe(unified);
  });

  it("reads the chat body's first choice", () => {
    const body = {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi there.' }, stop_reason: 'length' }],
    };

    expect(mistral.fromNative(body)).toEqual({ text: 'Hi there.', stopReason: 'max_tokens' });
  });

  it('refuses a body with neither outputs nor choices, naming the family', () => {
    expect(() => mistral.fromNative({})).toThrow('unexpected mistral response: missing outputs');
    expect(() => mistral.fromNative({ choices: [] })).toThrow('unexpected mistral response: choices');
  });
});

describe('mistral.fromStreamChunk', () => {
  it('reads chat chunks: message pieces, the stop reason and the metrics on the last', () => {
    const chunks = [
      { choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, stop_reason: null }] },
      {
        choices: [{ index: 0, message: { role: 'assistant', content: '!' }, stop_reason: 'stop' }],
        'amazon-bedrock-invocationMetrics': {
          inputTokenCount: 9,
          outputTokenCount: 2,
          invocationLatency: 300,
          firstByteLatency: 90,
        },
      },
    ];

    expect(chunks.map((c) => mistral.fromStreamChunk(c))).toEqual([
      { text: 'Hi' },
      { text: '!', stopReason: 'end_turn', usage: { inputTokens: 9, outputTokens: 2 } },
    ]);
  });

  it('reads text deltas and the final metrics', () => {
    const chunks = [
      { outputs: [{ text: ' May', stop_reason: null }] },
      { outputs: [{ text: 'onnaise', stop_reason: null }] },
      {
        outputs: [{ text: '.', stop_reason: 'stop' }],
        'amazon-bedrock-invocationMetrics': {
          inputTokenCount: 14,
          outputTokenCount: 3,
          invocationLatency: 400,
          firstByteLatency: 120,
        },
      },
    ];

    expect(chunks.map((c) => mistral.fromStreamChunk(c))).toEqual([
      { text: ' May' },
      { text: 'onnaise' },
      { text: '.', stopReason: 'end_turn', usage: { inputTokens: 14, outputTokens: 3 } },
    ]);
  });
});
