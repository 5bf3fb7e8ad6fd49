import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../models/catalog.js';
import { ADAPTERS } from '../../models/families/index.js';
import { FAMILIES, type ModelRequest } from '../../models/request.js';
import { SIM_FAMILIES } from './index.js';
import { llamaTurns } from './llama.js';
import { mistralTurns } from './mistral.js';
import { titanTurns } from './titan.js';
import type { ModelLimits } from './types.js';
import { isSimError } from './validate.js';

const LIMITS: ModelLimits = { baseId: 'anthropic.claude-3-haiku-20240307-v1:0', maxOutputTokens: 4_096 };

describe('prompt recovery from templated prompts', () => {
  it('reads the Llama 3 chat template back into system and turns', () => {
    const prompt =
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nSummarize this.<|eot_id|>' +
      '<|start_header_id|>assistant<|end_header_id|>\n\n';

    expect(llamaTurns(prompt)).toEqual({
      system: 'Be brief.',
      turns: [
        { role: 'user', text: 'Hi' },
        { role: 'assistant', text: 'Hello!' },
        { role: 'user', text: 'Summarize this.' },
      ],
    });
    expect(llamaTurns('just text')).toEqual({ system: '', turns: [{ role: 'user', text: 'just text' }] });
  });

  it('reads Mistral [INST] blocks, answers with brackets included', () => {
    expect(mistralTurns('<s>[INST] q1 [/INST] a [1] b</s>[INST] q2 [/INST]')).toEqual([
      { role: 'user', text: 'q1' },
      { role: 'assistant', text: 'a [1] b' },
      { role: 'user', text: 'q2' },
    ]);
    expect(mistralTurns('no template')).toEqual([{ role: 'user', text: 'no template' }]);
  });

  it('reads a Titan transcript, the text before the first turn as system', () => {
    expect(titanTurns('Be brief.\n\nUser: Hi\nBot: Hello\nUser: More\nBot:')).toEqual({
      system: 'Be brief.',
      turns: [
        { role: 'user', text: 'Hi' },
        { role: 'assistant', text: 'Hello' },
        { role: 'user', text: 'More' },
      ],
    });
  });
});

describe('native validation messages', () => {
  const message = (family: keyof typeof SIM_FAMILIES, body: unknown): string => {
    const out = SIM_FAMILIES[family].parse(body, LIMITS);
    return isSimError(out) ? out.message : 'valid';
  };

  it('names the missing key before the extraneous ones', () => {
    expect(message('nova', { prompt: 'x' })).toBe(
      'Malformed input request: #: required key [messages] not found, please reformat your input and try again.',
    );
    expect(message('cohere', { message: 'x', temperature: 0.2, top_p: 1 })).toBe(
      'Malformed input request: #: extraneous key [top_p] is not permitted, please reformat your input and try again.',
    );
  });

  it('words types, ranges and lengths like the JSON-schema validator', () => {
    expect(message('llama', { prompt: 'x', max_gen_len: 1.5 })).toContain(
      '#/max_gen_len: expected type: Integer, found: BigDecimal',
    );
    expect(message('llama', { prompt: 'x', top_p: -1 })).toContain(
      '#/top_p: -1 is not greater or equal to 0',
    );
    expect(message('titan', { inputText: '' })).toContain('expected minLength: 1, actual: 0');
    expect(message('titan', { inputText: 'x', textGenerationConfig: { stopSequences: ['END'] } })).toContain(
      '#/textGenerationConfig/stopSequences/0: END is not a valid enum value',
    );
    expect(message('mistral', [1])).toContain('#: expected type: JSONObject, found: JSONArray');
  });

  it('holds max output to the called model', () => {
    const small: ModelLimits = { baseId: 'meta.llama3-8b-instruct-v1:0', maxOutputTokens: 2_048 };

    const out = SIM_FAMILIES.llama.parse({ prompt: 'x', max_gen_len: 4_096 }, small);

    expect(isSimError(out) && out.message).toBe(
      'Malformed input request: #/max_gen_len: 4096 is not less or equal to 2048, please reformat your input and try again.',
    );
  });
});

describe("the project's adapters against the simulator's reading", () => {
  const catalog = new ModelCatalog();
  const request: ModelRequest = {
    system: 'Answer briefly.',
    messages: [
      { role: 'user', content: 'First question?' },
      { role: 'assistant', content: 'First answer.' },
      { role: 'user', content: 'Summarize.\n\n<document>\nOne. Two.\n</document>' },
    ],
    params: { maxTokens: 256, temperature: 0.3, topP: 0.9 },
  };

  it.each(FAMILIES)('%s: the body an adapter builds passes and keeps every turn', (family) => {
    const model = catalog.list().find((m) => m.family === family)!;
    const body = ADAPTERS[family].toNative(request, model);

    const parsed = SIM_FAMILIES[family].parse(body, {
      baseId: model.id,
      maxOutputTokens: model.maxOutputTokens,
    });

    if (isSimError(parsed)) throw new Error(`${family}: ${parsed.message}`);
    const all = `${parsed.system}\n${parsed.turns.map((t) => t.text).join('\n')}`;
    expect(all).toContain('Answer briefly.');
    expect(all).toContain('First answer.');
    expect(parsed.turns.at(-1)?.text).toContain('<document>\nOne. Two.\n</document>');
    expect(parsed.maxTokens).toBe(256);
  });
});
