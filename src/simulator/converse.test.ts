import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../models/catalog.js';
import { type ConverseModel, parseConverse } from './converse.js';
import { isSimError } from './native/validate.js';

const catalog = new ModelCatalog();

/** The simulator's view of a catalog model, as `prepareCall` builds it. */
function model(id: string): ConverseModel {
  const info = catalog.get(id)!;
  return {
    baseId: info.id,
    maxOutputTokens: info.maxOutputTokens,
    ...(info.nativeBody ? { nativeBody: info.nativeBody } : {}),
    family: info.family,
    features: info.converse,
  };
}

const user = (text: string) => ({ role: 'user', content: [{ text }] });
const tools = { tools: [{ toolSpec: { name: 'calc', inputSchema: { json: { type: 'object' } } } }] };

/** The refusal's message, or 'valid'. */
function answer(id: string, request: Record<string, unknown>, stream = false): string {
  const out = parseConverse({ messages: [user('Hi')], ...request }, model(id), stream);
  return isSimError(out) ? out.message : 'valid';
}

describe('Converse refuses what the model does not take', () => {
  it('a system prompt for Titan Text, Mistral 7B and Mixtral', () => {
    const system = { system: [{ text: 'Be brief.' }] };

    for (const id of ['titan-express', 'titan-lite', 'mistral-7b', 'mixtral-8x7b']) {
      expect(answer(id, system)).toBe(
        "This model doesn't support system messages. Try again without a system message or use a model that supports system messages.",
      );
    }
    expect(answer('llama3-8b', system)).toBe('valid');
  });

  it('tools where the model has none, and tools in ConverseStream where it has them unary only', () => {
    expect(answer('titan-express', { toolConfig: tools })).toBe("This model doesn't support tool use.");
    expect(answer('llama3-8b', { toolConfig: tools })).toBe("This model doesn't support tool use.");
    expect(answer('llama3-1-70b', { toolConfig: tools })).toBe('valid');
    expect(answer('llama3-1-70b', { toolConfig: tools }, true)).toBe(
      "This model doesn't support tool use in streaming mode.",
    );
    expect(answer('claude-3-haiku', { toolConfig: tools }, true)).toBe('valid');
  });

  it('a toolChoice member the model does not take', () => {
    const choice = (c: Record<string, unknown>) => ({ toolConfig: { ...tools, toolChoice: c } });

    expect(answer('llama3-1-70b', choice({ any: {} }))).toBe(
      "This model doesn't support the toolConfig.toolChoice.any field. Remove toolConfig.toolChoice.any and try again.",
    );
    expect(answer('mistral-large', choice({ tool: { name: 'calc' } }))).toBe(
      "This model doesn't support the toolConfig.toolChoice.tool field. Remove toolConfig.toolChoice.tool and try again.",
    );
    expect(answer('mistral-large', choice({ any: {} }))).toBe('valid');
    expect(answer('claude-3-haiku', choice({ tool: { name: 'calc' } }))).toBe('valid');
  });

  it("additionalModelRequestFields keys the native body does not have, in the schema validator's words", () => {
    expect(answer('llama3-1-70b', { additionalModelRequestFields: { top_k: 5 } })).toBe(
      'Malformed input request: #: extraneous key [top_k] is not permitted, please reformat your input and try again.',
    );
    expect(answer('claude-3-haiku', { additionalModelRequestFields: { top_k: 5 } })).toBe('valid');
    expect(answer('mistral-7b', { additionalModelRequestFields: { top_k: 5 } })).toBe('valid');
    expect(answer('mistral-large-2', { additionalModelRequestFields: { top_k: 5 } })).toContain(
      'extraneous key [top_k]',
    );
  });
});

describe('Converse conversation rules', () => {
  it('refuses a blank text block, naming where it is', () => {
    const blank = (text: string) =>
      answer('nova-lite', {
        messages: [user('Hi'), { role: 'assistant', content: [{ text: 'Yes' }, { text }] }, user('More')],
      });

    expect(blank('')).toBe(
      'The text field in the ContentBlock object at messages.1.content.1 is blank. Add text to the text field, and try again.',
    );
    expect(blank(' \n ')).toBe(
      'The text field in the ContentBlock object at messages.1.content.1 is blank. Add text to the text field, and try again.',
    );
  });

  it('holds Nova to its 10,000-token output limit', () => {
    expect(answer('nova-pro', { inferenceConfig: { maxTokens: 10_000 } })).toBe('valid');
    expect(answer('nova-pro', { inferenceConfig: { maxTokens: 10_001 } })).toBe(
      'The maximum tokens you requested exceeds the model limit of 10000. Try again with a maximum tokens value that is lower than 10000.',
    );
  });
});
