import { describe, expect, it } from 'vitest';
import { conversation } from '../../../test/helpers/conversation.js';
import { ModelCatalog } from '../catalog.js';
import { nova } from './nova.js';

const lite = new ModelCatalog().get('nova-lite')!;

const answer = {
  output: { message: { role: 'assistant', content: [{ text: 'Hi ' }, { text: 'there' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 5, outputTokens: 4, totalTokens: 9, cacheReadInputTokenCount: 0 },
};

describe('nova.toNative', () => {
  it('builds a messages-v1 body with content blocks and inferenceConfig', () => {
    expect(nova.toNative(conversation, lite)).toEqual({
      schemaVersion: 'messages-v1',
      system: [{ text: 'You are terse.' }],
      messages: [
        { role: 'user', content: [{ text: 'What is Bedrock?' }] },
        { role: 'assistant', content: [{ text: 'A managed model service.' }] },
        { role: 'user', content: [{ text: 'Name two families.' }] },
      ],
      inferenceConfig: { max_new_tokens: 300, temperature: 0.2, top_p: 0.9, stopSequences: ['END', 'User:'] },
    });
  });

  it('leaves out the system list and unset parameters', () => {
    expect(nova.toNative({ messages: [{ role: 'user', content: 'Hi' }] }, lite)).toEqual({
      schemaVersion: 'messages-v1',
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
      inferenceConfig: { max_new_tokens: 512 },
    });
  });

  it('adds a native top_k inside inferenceConfig without losing max_new_tokens', () => {
    const body = nova.toNative(
      { ...conversation, native: { nova: { inferenceConfig: { top_k: 20 } }, cohere: { k: 10 } } },
      lite,
    );

    expect(body.inferenceConfig).toEqual({
      max_new_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 20,
      stopSequences: ['END', 'User:'],
    });
    expect(body).not.toHaveProperty('k');
  });
});

describe('nova.fromNative', () => {
  it('joins the output text blocks and reads usage', () => {
    expect(nova.fromNative(answer)).toEqual({
      text: 'Hi there',
      stopReason: 'end_turn',
      usage: { inputTokens: 5, outputTokens: 4 },
    });
  });

  it.each([
    ['end_turn', 'end_turn'],
    ['max_tokens', 'max_tokens'],
    ['stop_sequence', 'stop_sequence'],
    ['content_filtered', 'content_filtered'],
    ['tool_use', 'other'],
  ])('maps stopReason %s to %s', (native, unified) => {
    expect(nova.fromNative({ ...answer, stopReason: native }).stopReason).toBe(unified);
  });

  it('refuses a body without output, naming the family', () => {
    expect(() => nova.fromNative({ stopReason: 'end_turn', usage: answer.usage })).toThrow(
      'unexpected nova response: missing output',
    );
  });
});

describe('nova.fromStreamChunk', () => {
  it('reads a whole stream of Converse-like chunks, preferring the final metrics', () => {
    const chunks = [
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { delta: { text: 'Hi' }, contentBlockIndex: 0 } },
      { contentBlockDelta: { delta: { text: ' there' }, contentBlockIndex: 0 } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { messageStop: { stopReason: 'content_filtered' } },
      {
        metadata: { usage: { inputTokens: 5, outputTokens: 4 }, metrics: {}, trace: {} },
        'amazon-bedrock-invocationMetrics': {
          inputTokenCount: 6,
          outputTokenCount: 4,
          invocationLatency: 200,
          firstByteLatency: 90,
        },
      },
    ];

    expect(chunks.map((c) => nova.fromStreamChunk(c))).toEqual([
      {},
      { text: 'Hi' },
      { text: ' there' },
      {},
      { stopReason: 'content_filtered' },
      { usage: { inputTokens: 6, outputTokens: 4 } },
    ]);
  });

  it('reads usage from the metadata chunk when there are no metrics', () => {
    expect(nova.fromStreamChunk({ metadata: { usage: { inputTokens: 5, outputTokens: 4 } } })).toEqual({
      usage: { inputTokens: 5, outputTokens: 4 },
    });
  });
});
