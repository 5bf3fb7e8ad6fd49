import { describe, expect, it } from 'vitest';
import { conversation } from '../../../test/helpers/conversation.js';
import { ModelCatalog } from '../catalog.js';
import { anthropic } from './anthropic.js';

const haiku = new ModelCatalog().get('claude-3-haiku')!;

const answer = {
  id: 'msg_bdrk_01ABC',
  type: 'message',
  role: 'assistant',
  model: 'claude-3-haiku-20240307',
  content: [
    { type: 'text', text: 'Hello' },
    { type: 'tool_use', id: 'toolu_bdrk_01', name: 'get_weather', input: { city: 'Paris' } },
    { type: 'text', text: '!' },
  ],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 6, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
};

describe('anthropic.toNative', () => {
  it('builds a Messages body with system, every turn and every parameter', () => {
    expect(anthropic.toNative(conversation, haiku)).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 300,
      system: 'You are terse.',
      messages: [
        { role: 'user', content: 'What is Bedrock?' },
        { role: 'assistant', content: 'A managed model service.' },
        { role: 'user', content: 'Name two families.' },
      ],
      temperature: 0.2,
      top_p: 0.9,
      stop_sequences: ['END', 'User:'],
    });
  });

  it('leaves out unset parameters and an empty system prompt, and never sends model or stream', () => {
    const body = anthropic.toNative({ system: '', messages: [{ role: 'user', content: 'Hi' }] }, haiku);

    expect(body).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 512,
      messages: [{ role: 'user', content: 'Hi' }],
    });
  });

  it('adds the job native fields last, so they can also replace ours', () => {
    const body = anthropic.toNative(
      { ...conversation, native: { anthropic: { top_k: 5, temperature: 1 }, mistral: { top_k: 50 } } },
      haiku,
    );

    expect(body).toEqual({ ...anthropic.toNative(conversation, haiku), top_k: 5, temperature: 1 });
  });
});

describe('anthropic.fromNative', () => {
  it('joins the text blocks and reads usage', () => {
    expect(anthropic.fromNative(answer)).toEqual({
      text: 'Hello!',
      stopReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 6 },
    });
  });

  it.each([
    ['end_turn', 'end_turn'],
    ['max_tokens', 'max_tokens'],
    ['stop_sequence', 'stop_sequence'],
    ['refusal', 'content_filtered'],
    ['model_context_window_exceeded', 'max_tokens'],
    ['tool_use', 'other'],
    [null, 'other'],
  ])('maps stop_reason %s to %s', (native, unified) => {
    expect(anthropic.fromNative({ ...answer, stop_reason: native }).stopReason).toBe(unified);
  });

  it('refuses a body without usage, naming the family and the missing field', () => {
    const { usage: _, ...noUsage } = answer;

    expect(() => anthropic.fromNative(noUsage)).toThrow(
      'unexpected anthropic Messages response: missing usage',
    );
  });
});

describe('anthropic.fromStreamChunk', () => {
  it('reads a whole stream: input tokens, text deltas, stop reason and the final metrics', () => {
    const chunks = [
      {
        type: 'message_start',
        message: {
          id: 'msg_bdrk_01',
          type: 'message',
          role: 'assistant',
          model: 'claude-3-haiku-20240307',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 12, output_tokens: 1 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"c' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '!' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'max_tokens', stop_sequence: null },
        usage: { output_tokens: 6 },
      },
      {
        type: 'message_stop',
        'amazon-bedrock-invocationMetrics': {
          inputTokenCount: 12,
          outputTokenCount: 6,
          invocationLatency: 640,
          firstByteLatency: 280,
        },
      },
    ];

    expect(chunks.map((c) => anthropic.fromStreamChunk(c))).toEqual([
      { usage: { inputTokens: 12 } },
      {},
      { text: 'Hello' },
      {},
      { text: '!' },
      {},
      { stopReason: 'max_tokens', usage: { outputTokens: 6 } },
      { usage: { inputTokens: 12, outputTokens: 6 } },
    ]);
  });

  it('refuses a chunk that is not an Anthropic event', () => {
    expect(() => anthropic.fromStreamChunk({ outputText: 'x' })).toThrow(
      'unexpected anthropic stream chunk: missing type',
    );
  });
});
