import { describe, expect, it } from 'vitest';
import { ModelCatalog } from './catalog.js';
import { fromConverseOutput, fromConverseStreamEvent, toConverseInput } from './converse.js';
import type { ModelRequest } from './request.js';

const catalog = new ModelCatalog();

const request: ModelRequest = {
  system: 'Be brief.',
  messages: [
    { role: 'user', content: '안녕하세요' },
    { role: 'assistant', content: 'Hello' },
    { role: 'user', content: 'Summarize.' },
  ],
  params: { maxTokens: 200, temperature: 0.1, topP: 0.8, stopSequences: ['END'] },
  native: { anthropic: { top_k: 5 }, cohere: { k: 3 } },
};

describe('Converse mapping', () => {
  it('maps the unified request with native extras for the family only', () => {
    expect(
      toConverseInput('anthropic.claude-3-haiku-20240307-v1:0', request, catalog.get('claude-3-haiku')!),
    ).toEqual({
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: '안녕하세요' }] },
        { role: 'assistant', content: [{ text: 'Hello' }] },
        { role: 'user', content: [{ text: 'Summarize.' }] },
      ],
      inferenceConfig: { maxTokens: 200, temperature: 0.1, topP: 0.8, stopSequences: ['END'] },
      additionalModelRequestFields: { top_k: 5 },
    });
    expect(
      toConverseInput('meta.llama3-8b-instruct-v1:0', request, catalog.get('llama3-8b')!),
    ).not.toHaveProperty('additionalModelRequestFields');
  });

  it('opens the first user turn with the system text for models that take no system prompt', () => {
    for (const alias of ['titan-express', 'mistral-7b', 'mixtral-8x7b']) {
      const model = catalog.get(alias)!;

      const input = toConverseInput(model.id, request, model);

      expect(input).not.toHaveProperty('system');
      expect(input.messages?.map((m) => m.content?.[0])).toEqual([
        { text: 'Be brief.\n\n안녕하세요' },
        { text: 'Hello' },
        { text: 'Summarize.' },
      ]);
    }
  });

  it('passes Cohere native fields for a Cohere model', () => {
    const input = toConverseInput('cohere.command-r-v1:0', request, catalog.get('command-r')!);

    expect(input.additionalModelRequestFields).toEqual({ k: 3 });
  });

  it('leaves out the system prompt and unset parameters, and caps max tokens at the model limit', () => {
    const bare: ModelRequest = { system: '', messages: [{ role: 'user', content: 'Hi' }] };

    expect(toConverseInput('amazon.nova-lite-v1:0', bare, catalog.get('nova-lite')!)).toEqual({
      modelId: 'amazon.nova-lite-v1:0',
      messages: [{ role: 'user', content: [{ text: 'Hi' }] }],
      inferenceConfig: { maxTokens: 512 },
    });
    expect(
      toConverseInput(
        'us.meta.llama3-1-8b-instruct-v1:0',
        { ...bare, params: { maxTokens: 50_000 } },
        catalog.get('llama3-1-8b')!,
      ).inferenceConfig,
    ).toEqual({ maxTokens: 2048 });
  });

  it.each([
    ['end_turn', 'end_turn'],
    ['max_tokens', 'max_tokens'],
    ['stop_sequence', 'stop_sequence'],
    ['content_filtered', 'content_filtered'],
    ['guardrail_intervened', 'content_filtered'],
    ['tool_use', 'other'],
    ['malformed_model_output', 'other'],
  ] as const)('maps Converse stopReason %s to %s', (native, unified) => {
    const output = {
      output: { message: { role: 'assistant' as const, content: [{ text: 'x' }] } },
      stopReason: native,
    };

    expect(fromConverseOutput(output).stopReason).toBe(unified);
  });

  it('maps a Converse answer back to text, stop reason and usage', () => {
    const reply = fromConverseOutput({
      output: { message: { role: 'assistant', content: [{ text: 'Hi ' }, { text: 'there' }] } },
      stopReason: 'guardrail_intervened',
      usage: { inputTokens: 10, outputTokens: 4, totalTokens: 14 },
    });

    expect(reply).toEqual({
      text: 'Hi there',
      stopReason: 'content_filtered',
      usage: { inputTokens: 10, outputTokens: 4 },
    });
    expect(
      fromConverseOutput({
        output: { message: { role: 'assistant', content: [] } },
        stopReason: 'max_tokens',
      }).stopReason,
    ).toBe('max_tokens');
  });

  it('reads ConverseStream events', () => {
    expect(
      fromConverseStreamEvent({ contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hel' } } }),
    ).toEqual({ text: 'Hel' });
    expect(fromConverseStreamEvent({ messageStop: { stopReason: 'end_turn' } })).toEqual({
      stopReason: 'end_turn',
    });
    expect(
      fromConverseStreamEvent({
        metadata: { usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 }, metrics: { latencyMs: 1 } },
      }),
    ).toEqual({ usage: { inputTokens: 3, outputTokens: 2 } });
  });

  it('gives nothing for events that carry no text, stop or usage', () => {
    expect(fromConverseStreamEvent({ messageStart: { role: 'assistant' } })).toEqual({});
    expect(
      fromConverseStreamEvent({
        contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"x":' } } },
      }),
    ).toEqual({});
    expect(fromConverseStreamEvent({ contentBlockStop: { contentBlockIndex: 0 } })).toEqual({});
  });
});
