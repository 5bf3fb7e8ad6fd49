import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../models/catalog.js';
import { ADAPTERS } from '../../models/families/index.js';
import { type ModelRequest, NATIVE_FAMILIES } from '../../models/request.js';
import { SIM_FAMILIES } from './index.js';
import { llamaTurns } from './llama.js';
import { mistralTurns } from './mistral.js';
import { titanTurns } from './titan.js';
import type { AnswerContext, Generation, InvocationMetrics, ModelLimits } from './types.js';
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

  it.each(NATIVE_FAMILIES)('%s: the body an adapter builds passes and keeps every turn', (family) => {
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

describe('answers as the service sends them', () => {
  const g: Generation = { text: 'Queues hold jobs.', stop: 'end', inputTokens: 12, outputTokens: 6 };
  const metrics: InvocationMetrics = {
    inputTokenCount: 12,
    outputTokenCount: 6,
    invocationLatency: 9,
    firstByteLatency: 3,
  };
  const answer = (form?: 'chat'): AnswerContext => ({
    requestId: '7d0c0bd8-0000-4000-8000-000000000000',
    baseId: 'x',
    prompt: {
      system: '',
      turns: [{ role: 'user', text: 'Why queues?' }],
      maxTokens: 100,
      stopSequences: [],
      ...(form ? { form } : {}),
    },
  });

  it('Titan ends a completed answer with FINISH and counts the output only on the last chunk', () => {
    const body = SIM_FAMILIES.titan.respond(g, answer());
    const chunks = SIM_FAMILIES.titan.chunks(g, ['Queues ', 'hold ', 'jobs.'], metrics, answer());

    expect(body).toEqual({
      inputTextTokenCount: 12,
      results: [{ tokenCount: 6, outputText: 'Queues hold jobs.', completionReason: 'FINISH' }],
    });
    expect(
      chunks.map((c) => [c.totalOutputTextTokenCount, c.completionReason, c.inputTextTokenCount]),
    ).toEqual([
      [null, null, 12],
      [null, null, null],
      [6, 'FINISH', null],
    ]);
  });

  it('Nova streams every text delta as a content block of its own and reports the prompt cache', () => {
    const chunks = SIM_FAMILIES.nova.chunks(g, ['Queues ', 'hold ', 'jobs.'], metrics, answer());

    expect(chunks.slice(0, 8)).toEqual([
      { messageStart: { role: 'assistant' } },
      { contentBlockDelta: { delta: { text: 'Queues ' }, contentBlockIndex: 0 } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { contentBlockDelta: { delta: { text: 'hold ' }, contentBlockIndex: 1 } },
      { contentBlockStop: { contentBlockIndex: 1 } },
      { contentBlockDelta: { delta: { text: 'jobs.' }, contentBlockIndex: 2 } },
      { contentBlockStop: { contentBlockIndex: 2 } },
      { messageStop: { stopReason: 'end_turn' } },
    ]);
    expect(chunks[8]?.metadata).toEqual({
      usage: { inputTokens: 12, outputTokens: 6, cacheReadInputTokenCount: 0, cacheWriteInputTokenCount: 0 },
      metrics: {},
      trace: {},
    });
  });

  it('Cohere answers without meta; only the stream-end response carries the billed units', () => {
    const body = SIM_FAMILIES.cohere.respond(g, answer());
    const last = SIM_FAMILIES.cohere.chunks(g, ['Queues hold jobs.'], metrics, answer()).at(-1);

    expect(Object.keys(body)).toEqual([
      'response_id',
      'text',
      'generation_id',
      'chat_history',
      'finish_reason',
    ]);
    expect(last?.response).toMatchObject({ meta: { billed_units: { input_tokens: 12, output_tokens: 6 } } });
  });

  it('Mistral answers a chat body with choices, whole and streamed', () => {
    const body = SIM_FAMILIES.mistral.respond(g, answer('chat'));
    const chunks = SIM_FAMILIES.mistral.chunks(g, ['Queues ', 'hold jobs.'], metrics, answer('chat'));

    expect(body).toEqual({
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Queues hold jobs.' }, stop_reason: 'stop' },
      ],
    });
    expect(chunks).toEqual([
      { choices: [{ index: 0, message: { role: 'assistant', content: 'Queues ' }, stop_reason: null }] },
      {
        choices: [{ index: 0, message: { role: 'assistant', content: 'hold jobs.' }, stop_reason: 'stop' }],
        'amazon-bedrock-invocationMetrics': metrics,
      },
    ]);
  });
});

describe('Mistral body forms', () => {
  const chat = {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ],
    max_tokens: 20,
  };
  const prompt = { prompt: '<s>[INST] Hi [/INST]', max_tokens: 20 };
  const limits = (nativeBody: ModelLimits['nativeBody']): ModelLimits => ({
    baseId: 'mistral.x',
    maxOutputTokens: 8_192,
    ...(nativeBody ? { nativeBody } : {}),
  });
  const message = (body: unknown, model: ModelLimits): string => {
    const out = SIM_FAMILIES.mistral.parse(body, model);
    return isSimError(out) ? out.message : 'valid';
  };

  it('takes the chat body where the model speaks it, with its system message', () => {
    const parsed = SIM_FAMILIES.mistral.parse(chat, limits('chat'));

    expect(parsed).toEqual({
      system: 'Be brief.',
      turns: [{ role: 'user', text: 'Hi' }],
      maxTokens: 20,
      stopSequences: [],
      form: 'chat',
    });
    expect(message(chat, limits('both'))).toBe('valid');
    expect(message(prompt, limits('both'))).toBe('valid');
  });

  it('refuses the form a model does not take, and stop/top_k in the chat body', () => {
    expect(message(prompt, limits('chat'))).toBe(
      'Malformed input request: #: required key [messages] not found, please reformat your input and try again.',
    );
    expect(message(chat, limits(undefined))).toBe(
      'Malformed input request: #: required key [prompt] not found, please reformat your input and try again.',
    );
    expect(message({ ...chat, top_k: 5 }, limits('chat'))).toContain(
      '#: extraneous key [top_k] is not permitted',
    );
  });
});

describe("Anthropic's refusals of empty text", () => {
  const claude = (content: unknown) => ({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 10,
    messages: [{ role: 'user', content }],
  });
  const refusal = (body: unknown) => {
    const out = SIM_FAMILIES.anthropic.parse(body, LIMITS);
    return isSimError(out) ? out : undefined;
  };

  it('refuses empty and whitespace-only text, as Anthropic words it', () => {
    expect(refusal(claude(''))?.message).toBe('messages: text content blocks must be non-empty');
    expect(refusal(claude([{ type: 'text', text: '' }]))?.message).toBe(
      'messages: text content blocks must be non-empty',
    );
    expect(refusal(claude(' \n'))?.message).toBe(
      'messages: text content blocks must contain non-whitespace text',
    );
    expect(refusal(claude('x'))).toBeUndefined();
  });

  it("marks them as the provider's, unlike the schema errors Bedrock raises itself", () => {
    expect(refusal(claude(''))?.fromProvider).toBe(true);
    expect(refusal({ max_tokens: 10, messages: [] })?.fromProvider).toBeUndefined();
  });
});
