import { describe, expect, it } from 'vitest';
import { conversation } from '../../../test/helpers/conversation.js';
import { ModelCatalog } from '../catalog.js';
import { cohere } from './cohere.js';

const commandR = new ModelCatalog().get('command-r')!;

const answer = {
  response_id: '8d3f2c1e-0000-4000-8000-000000000001',
  generation_id: '8d3f2c1e-0000-4000-8000-000000000002',
  text: 'Paris.',
  finish_reason: 'COMPLETE',
  chat_history: [],
  meta: { api_version: { version: '1' }, billed_units: { input_tokens: 12, output_tokens: 2 } },
};

describe('cohere.toNative', () => {
  it('sends the last user turn as message, earlier turns as history and the system as preamble', () => {
    expect(cohere.toNative(conversation, commandR)).toEqual({
      message: 'Name two families.',
      chat_history: [
        { role: 'USER', message: 'What is Bedrock?' },
        { role: 'CHATBOT', message: 'A managed model service.' },
      ],
      preamble: 'You are terse.',
      max_tokens: 300,
      temperature: 0.2,
      p: 0.9,
      stop_sequences: ['END', 'User:'],
    });
  });

  it('leaves out empty history, preamble and unset parameters', () => {
    expect(cohere.toNative({ messages: [{ role: 'user', content: 'Hi' }] }, commandR)).toEqual({
      message: 'Hi',
      max_tokens: 512,
    });
  });

  it('answers the last user turn even when an assistant turn follows it', () => {
    const body = cohere.toNative(
      {
        messages: [
          { role: 'user', content: 'Capital of France?' },
          { role: 'assistant', content: 'The capital is' },
        ],
      },
      commandR,
    );

    expect(body).toEqual({ message: 'Capital of France?', max_tokens: 512 });
  });

  it('caps max_tokens at the model limit of 4000', () => {
    expect(cohere.toNative({ ...conversation, params: { maxTokens: 9000 } }, commandR).max_tokens).toBe(4000);
  });

  it('adds a native k and ignores the other families', () => {
    const body = cohere.toNative(
      { ...conversation, native: { cohere: { k: 10 }, anthropic: { top_k: 5 } } },
      commandR,
    );

    expect(body).toEqual({ ...cohere.toNative(conversation, commandR), k: 10 });
  });
});

describe('cohere.fromNative', () => {
  it('reads the text and billed units', () => {
    expect(cohere.fromNative(answer)).toEqual({
      text: 'Paris.',
      stopReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 2 },
    });
  });

  it.each([
    ['COMPLETE', 'end_turn'],
    ['MAX_TOKENS', 'max_tokens'],
    ['STOP_SEQUENCE', 'stop_sequence'],
    ['ERROR_TOXIC', 'content_filtered'],
    ['ERROR', 'other'],
    ['ERROR_LIMIT', 'other'],
  ])('maps finish_reason %s to %s', (native, unified) => {
    expect(cohere.fromNative({ ...answer, finish_reason: native }).stopReason).toBe(unified);
  });

  it('reports no usage when the answer has no billed units', () => {
    expect(cohere.fromNative({ text: 'Paris.', finish_reason: 'COMPLETE' })).toEqual({
      text: 'Paris.',
      stopReason: 'end_turn',
    });
  });

  it('refuses a body without text, naming the family', () => {
    expect(() => cohere.fromNative({ finish_reason: 'COMPLETE' })).toThrow(
      'unexpected cohere chat response: missing text',
    );
  });
});

describe('cohere.fromStreamChunk', () => {
  it('reads text-generation events and the stream-end reason with the final metrics', () => {
    const chunks = [
      { is_finished: false, event_type: 'stream-start', generation_id: 'g1' },
      { is_finished: false, event_type: 'text-generation', text: 'Par' },
      { is_finished: false, event_type: 'text-generation', text: 'is.' },
      {
        is_finished: true,
        event_type: 'stream-end',
        finish_reason: 'MAX_TOKENS',
        response: { text: 'Paris.', meta: { billed_units: { input_tokens: 11, output_tokens: 2 } } },
        'amazon-bedrock-invocationMetrics': {
          inputTokenCount: 12,
          outputTokenCount: 2,
          invocationLatency: 350,
          firstByteLatency: 110,
        },
      },
    ];

    expect(chunks.map((c) => cohere.fromStreamChunk(c))).toEqual([
      {},
      { text: 'Par' },
      { text: 'is.' },
      { stopReason: 'max_tokens', usage: { inputTokens: 12, outputTokens: 2 } },
    ]);
  });

  it('falls back to the stream-end billed units when there are no metrics', () => {
    const end = {
      is_finished: true,
      event_type: 'stream-end',
      finish_reason: 'COMPLETE',
      response: { meta: { billed_units: { input_tokens: 11, output_tokens: 2 } } },
    };

    expect(cohere.fromStreamChunk(end)).toEqual({
      stopReason: 'end_turn',
      usage: { inputTokens: 11, outputTokens: 2 },
    });
  });
});
