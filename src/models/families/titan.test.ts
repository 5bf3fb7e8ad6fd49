import { describe, expect, it } from 'vitest';
import { conversation as shared } from '../../../test/helpers/conversation.js';
import { ModelCatalog } from '../catalog.js';
import type { ModelRequest } from '../request.js';
import { titan, titanTranscript } from './titan.js';

const express = new ModelCatalog().get('titan-express')!;

// Titan keeps only its own stop sequences (`|`, `User:`): one more to see it kept.
const conversation: ModelRequest = {
  ...shared,
  params: { ...shared.params, stopSequences: ['END', 'User:', '|'] },
};

const answer = {
  inputTextTokenCount: 5,
  results: [{ tokenCount: 27, outputText: '\nHello! How can I help?', completionReason: 'FINISH' }],
};

describe('titan.toNative', () => {
  it('builds a transcript body and keeps only the stop sequences Titan accepts', () => {
    expect(titan.toNative(conversation, express)).toEqual({
      inputText:
        'You are terse.\n\nUser: What is Bedrock?\nBot: A managed model service.\nUser: Name two families.\nBot:',
      textGenerationConfig: {
        maxTokenCount: 300,
        temperature: 0.2,
        topP: 0.9,
        stopSequences: ['User:', '|'],
      },
    });
  });

  it('starts the transcript at the first turn when there is no system prompt', () => {
    expect(titanTranscript({ messages: [{ role: 'user', content: 'Hi' }] })).toBe('User: Hi\nBot:');
  });

  it('leaves out stop sequences when none is one Titan accepts, and unset parameters', () => {
    const body = titan.toNative(
      { messages: [{ role: 'user', content: 'Hi' }], params: { stopSequences: ['END'] } },
      express,
    );

    expect(body).toEqual({ inputText: 'User: Hi\nBot:', textGenerationConfig: { maxTokenCount: 512 } });
  });

  it('merges a native textGenerationConfig into ours instead of replacing it', () => {
    const body = titan.toNative(
      { ...conversation, native: { titan: { textGenerationConfig: { topP: 1 } }, anthropic: { top_k: 5 } } },
      express,
    );

    expect(body.textGenerationConfig).toEqual({
      maxTokenCount: 300,
      temperature: 0.2,
      topP: 1,
      stopSequences: ['User:', '|'],
    });
    expect(body).not.toHaveProperty('top_k');
  });
});

describe('titan.fromNative', () => {
  it('reads the first result and the token counts', () => {
    expect(titan.fromNative(answer)).toEqual({
      text: '\nHello! How can I help?',
      stopReason: 'end_turn',
      usage: { inputTokens: 5, outputTokens: 27 },
    });
  });

  it.each([
    ['FINISH', 'end_turn'],
    ['FINISHED', 'end_turn'],
    ['LENGTH', 'max_tokens'],
    ['STOP_CRITERIA_MET', 'stop_sequence'],
    ['CONTENT_FILTERED', 'content_filtered'],
    ['RAG_QUERY_WHEN_RAG_DISABLED', 'other'],
  ])('maps completionReason %s to %s', (native, unified) => {
    const body = { ...answer, results: [{ ...answer.results[0], completionReason: native }] };

    expect(titan.fromNative(body).stopReason).toBe(unified);
  });

  it('refuses another family answer, naming the family and the missing field', () => {
    expect(() => titan.fromNative({ generation: 'x', stop_reason: 'stop' })).toThrow(
      'unexpected titan response: missing inputTextTokenCount',
    );
  });
});

describe('titan.fromStreamChunk', () => {
  it('reads text, input tokens on the first chunk and the final metrics', () => {
    const chunks = [
      {
        outputText: 'Hel',
        index: 0,
        totalOutputTextTokenCount: null,
        completionReason: null,
        inputTextTokenCount: 5,
      },
      {
        outputText: 'lo',
        index: 0,
        totalOutputTextTokenCount: null,
        completionReason: null,
        inputTextTokenCount: null,
      },
      {
        outputText: '!',
        index: 0,
        totalOutputTextTokenCount: 3,
        completionReason: 'LENGTH',
        'amazon-bedrock-invocationMetrics': {
          inputTokenCount: 5,
          outputTokenCount: 3,
          invocationLatency: 300,
          firstByteLatency: 100,
        },
      },
    ];

    expect(chunks.map((c) => titan.fromStreamChunk(c))).toEqual([
      { text: 'Hel', usage: { inputTokens: 5 } },
      { text: 'lo' },
      { text: '!', stopReason: 'max_tokens', usage: { inputTokens: 5, outputTokens: 3 } },
    ]);
  });

  it('takes the output count from the last chunk when Bedrock adds no metrics', () => {
    const last = { outputText: '', totalOutputTextTokenCount: 9, completionReason: 'FINISH' };

    expect(titan.fromStreamChunk(last)).toEqual({ stopReason: 'end_turn', usage: { outputTokens: 9 } });
  });
});
