import { describe, expect, it } from 'vitest';
import { ADAPTERS } from './index.js';

describe('fromNative: real-shaped answers of each family', () => {
  it('parses a Claude message with usage and each stop reason', () => {
    const body = {
      id: 'msg_bdrk_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-haiku-20240307',
      content: [
        { type: 'text', text: 'Hello' },
        { type: 'text', text: '!' },
      ],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 6 },
    };

    expect(ADAPTERS.anthropic.fromNative(body)).toEqual({
      text: 'Hello!',
      stopReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 6 },
    });
    expect(ADAPTERS.anthropic.fromNative({ ...body, stop_reason: 'max_tokens' }).stopReason).toBe(
      'max_tokens',
    );
    expect(ADAPTERS.anthropic.fromNative({ ...body, stop_reason: 'stop_sequence' }).stopReason).toBe(
      'stop_sequence',
    );
    expect(ADAPTERS.anthropic.fromNative({ ...body, stop_reason: 'refusal' }).stopReason).toBe(
      'content_filtered',
    );
    expect(ADAPTERS.anthropic.fromNative({ ...body, stop_reason: 'tool_use' }).stopReason).toBe('other');
  });

  it('parses a Titan result and maps its completion reasons', () => {
    const body = {
      inputTextTokenCount: 5,
      results: [{ tokenCount: 27, outputText: '\nHello! How can I help?', completionReason: 'FINISHED' }],
    };
    const reason = (completionReason: string) =>
      ADAPTERS.titan.fromNative({ ...body, results: [{ ...body.results[0], completionReason }] }).stopReason;

    expect(ADAPTERS.titan.fromNative(body)).toEqual({
      text: '\nHello! How can I help?',
      stopReason: 'end_turn',
      usage: { inputTokens: 5, outputTokens: 27 },
    });
    expect(reason('LENGTH')).toBe('max_tokens');
    expect(reason('STOP_CRITERIA_MET')).toBe('stop_sequence');
    expect(reason('CONTENT_FILTERED')).toBe('content_filtered');
  });

  it('parses a Nova answer', () => {
    const body = {
      output: { message: { role: 'assistant', content: [{ text: 'Hi there' }] } },
      stopReason: 'max_tokens',
      usage: { inputTokens: 5, outputTokens: 4, totalTokens: 9 },
    };

    expect(ADAPTERS.nova.fromNative(body)).toEqual({
      text: 'Hi there',
      stopReason: 'max_tokens',
      usage: { inputTokens: 5, outputTokens: 4 },
    });
    expect(ADAPTERS.nova.fromNative({ ...body, stopReason: 'content_filtered' }).stopReason).toBe(
      'content_filtered',
    );
  });

  it('parses a Llama generation', () => {
    const body = {
      generation: 'Hello! How can I help?',
      prompt_token_count: 24,
      generation_token_count: 8,
      stop_reason: 'stop',
    };

    expect(ADAPTERS.llama.fromNative(body)).toEqual({
      text: 'Hello! How can I help?',
      stopReason: 'end_turn',
      usage: { inputTokens: 24, outputTokens: 8 },
    });
    expect(ADAPTERS.llama.fromNative({ ...body, stop_reason: 'length' }).stopReason).toBe('max_tokens');
  });

  it('parses a Mistral output, which has no token counts in the body', () => {
    const reply = ADAPTERS.mistral.fromNative({ outputs: [{ text: ' Mayonnaise.', stop_reason: 'length' }] });

    expect(reply).toEqual({ text: ' Mayonnaise.', stopReason: 'max_tokens' });
  });

  it('parses a Cohere chat answer with billed units', () => {
    const body = {
      response_id: 'r',
      generation_id: 'g',
      text: 'Paris.',
      finish_reason: 'COMPLETE',
      meta: { api_version: { version: '1' }, billed_units: { input_tokens: 12, output_tokens: 2 } },
    };

    expect(ADAPTERS.cohere.fromNative(body)).toEqual({
      text: 'Paris.',
      stopReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 2 },
    });
    expect(ADAPTERS.cohere.fromNative({ ...body, finish_reason: 'MAX_TOKENS' }).stopReason).toBe(
      'max_tokens',
    );
    expect(ADAPTERS.cohere.fromNative({ ...body, finish_reason: 'ERROR_TOXIC' }).stopReason).toBe(
      'content_filtered',
    );
  });

  it('refuses another family answer, naming the family', () => {
    expect(() => ADAPTERS.titan.fromNative({ generation: 'x', stop_reason: 'stop' })).toThrow(
      /not a titan response/,
    );
    expect(() => ADAPTERS.anthropic.fromNative('not json')).toThrow(/not a anthropic Messages response/);
  });
});

const METRICS = {
  'amazon-bedrock-invocationMetrics': {
    inputTokenCount: 12,
    outputTokenCount: 6,
    invocationLatency: 640,
    firstByteLatency: 280,
  },
};

describe('fromStreamChunk', () => {
  it('reads Claude stream events', () => {
    const a = ADAPTERS.anthropic;

    expect(
      a.fromStreamChunk({
        type: 'message_start',
        message: { usage: { input_tokens: 12, output_tokens: 1 } },
      }),
    ).toEqual({ usage: { inputTokens: 12 } });
    expect(
      a.fromStreamChunk({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: 'Hello' },
      }),
    ).toEqual({ text: 'Hello' });
    expect(
      a.fromStreamChunk({
        type: 'message_delta',
        delta: { stop_reason: 'end_turn' },
        usage: { output_tokens: 6 },
      }),
    ).toEqual({
      stopReason: 'end_turn',
      usage: { outputTokens: 6 },
    });
    expect(a.fromStreamChunk({ type: 'message_stop', ...METRICS })).toEqual({
      usage: { inputTokens: 12, outputTokens: 6 },
    });
  });

  it('reads Titan, Nova, Llama, Mistral and Cohere chunks, with the final metrics', () => {
    expect(
      ADAPTERS.titan.fromStreamChunk({
        outputText: 'Hel',
        index: 0,
        totalOutputTextTokenCount: 1,
        completionReason: null,
        inputTextTokenCount: 5,
      }),
    ).toEqual({
      text: 'Hel',
      usage: { inputTokens: 5 },
    });
    expect(
      ADAPTERS.titan.fromStreamChunk({
        outputText: 'lo',
        completionReason: 'FINISHED',
        totalOutputTextTokenCount: 2,
        ...METRICS,
      }),
    ).toEqual({
      text: 'lo',
      stopReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 6 },
    });
    expect(
      ADAPTERS.nova.fromStreamChunk({ contentBlockDelta: { delta: { text: 'Hi' }, contentBlockIndex: 0 } }),
    ).toEqual({ text: 'Hi' });
    expect(ADAPTERS.nova.fromStreamChunk({ messageStop: { stopReason: 'max_tokens' } })).toEqual({
      stopReason: 'max_tokens',
    });
    expect(
      ADAPTERS.nova.fromStreamChunk({ metadata: { usage: { inputTokens: 5, outputTokens: 4 } }, ...METRICS }),
    ).toEqual({
      usage: { inputTokens: 12, outputTokens: 6 },
    });
    expect(
      ADAPTERS.llama.fromStreamChunk({
        generation: 'Hi',
        prompt_token_count: 24,
        generation_token_count: 1,
        stop_reason: null,
      }),
    ).toEqual({
      text: 'Hi',
      usage: { inputTokens: 24 },
    });
    expect(
      ADAPTERS.llama.fromStreamChunk({
        generation: '',
        prompt_token_count: null,
        stop_reason: 'length',
        ...METRICS,
      }),
    ).toEqual({
      stopReason: 'max_tokens',
      usage: { inputTokens: 12, outputTokens: 6 },
    });
    expect(ADAPTERS.mistral.fromStreamChunk({ outputs: [{ text: ' May', stop_reason: null }] })).toEqual({
      text: ' May',
    });
    expect(
      ADAPTERS.mistral.fromStreamChunk({ outputs: [{ text: '', stop_reason: 'stop' }], ...METRICS }),
    ).toEqual({
      stopReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 6 },
    });
    expect(
      ADAPTERS.cohere.fromStreamChunk({ is_finished: false, event_type: 'text-generation', text: 'Par' }),
    ).toEqual({ text: 'Par' });
    expect(
      ADAPTERS.cohere.fromStreamChunk({
        is_finished: true,
        event_type: 'stream-end',
        finish_reason: 'COMPLETE',
        ...METRICS,
      }),
    ).toEqual({
      stopReason: 'end_turn',
      usage: { inputTokens: 12, outputTokens: 6 },
    });
  });
});
