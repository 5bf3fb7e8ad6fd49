import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../catalog.js';
import { FAMILIES, type ModelRequest } from '../request.js';
import { ADAPTERS } from './index.js';

const catalog = new ModelCatalog();
const info = (alias: string) => catalog.get(alias)!;

const request: ModelRequest = {
  system: 'You are terse.',
  messages: [
    { role: 'user', content: 'What is Bedrock?' },
    { role: 'assistant', content: 'A managed model service.' },
    { role: 'user', content: 'Name two families.' },
  ],
  params: { maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['END', 'User:'] },
};

describe('toNative: the same request in every family format', () => {
  it('builds a Claude Messages body', () => {
    expect(ADAPTERS.anthropic.toNative(request, info('claude-3-haiku'))).toEqual({
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

  it('builds a Titan transcript and keeps only the stop sequences Titan accepts', () => {
    expect(ADAPTERS.titan.toNative(request, info('titan-express'))).toEqual({
      inputText:
        'You are terse.\n\nUser: What is Bedrock?\nBot: A managed model service.\nUser: Name two families.\nBot:',
      textGenerationConfig: { maxTokenCount: 300, temperature: 0.2, topP: 0.9, stopSequences: ['User:'] },
    });
  });

  it('builds a Nova messages-v1 body', () => {
    expect(ADAPTERS.nova.toNative(request, info('nova-lite'))).toEqual({
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

  it('builds the Llama 3 chat template token for token', () => {
    expect(ADAPTERS.llama.toNative(request, info('llama3-70b'))).toEqual({
      prompt:
        '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWhat is Bedrock?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nA managed model service.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nName two families.<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
      max_gen_len: 300,
      temperature: 0.2,
      top_p: 0.9,
    });
  });

  it('builds the Mistral [INST] template token for token', () => {
    expect(ADAPTERS.mistral.toNative(request, info('mistral-7b'))).toEqual({
      prompt:
        '<s>[INST] You are terse.\n\nWhat is Bedrock? [/INST] A managed model service.</s>[INST] Name two families. [/INST]',
      max_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END', 'User:'],
    });
  });

  it('builds a Cohere chat body with history and preamble', () => {
    expect(ADAPTERS.cohere.toNative(request, info('command-r'))).toEqual({
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

  it('omits unset parameters instead of sending nulls, and defaults max tokens to 512', () => {
    const bare: ModelRequest = { messages: [{ role: 'user', content: 'Hi' }] };

    expect(ADAPTERS.anthropic.toNative(bare, info('claude-3-haiku'))).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 512,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(ADAPTERS.llama.toNative(bare, info('llama3-8b'))).toEqual({
      prompt:
        '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
      max_gen_len: 512,
    });
    expect(ADAPTERS.mistral.toNative(bare, info('mistral-7b'))).toEqual({
      prompt: '<s>[INST] Hi [/INST]',
      max_tokens: 512,
    });
  });

  it('caps max tokens at the model limit', () => {
    const big: ModelRequest = { ...request, params: { maxTokens: 100_000 } };

    expect(ADAPTERS.llama.toNative(big, info('llama3-8b')).max_gen_len).toBe(2048);
    expect(ADAPTERS.anthropic.toNative(big, info('claude-3-haiku')).max_tokens).toBe(4096);
  });

  it('merges native overrides into their own family only', () => {
    const withNative: ModelRequest = {
      ...request,
      native: { anthropic: { top_k: 5 }, mistral: { top_k: 50 } },
    };

    expect(ADAPTERS.anthropic.toNative(withNative, info('claude-3-haiku')).top_k).toBe(5);
    expect(ADAPTERS.mistral.toNative(withNative, info('mistral-7b')).top_k).toBe(50);
    for (const family of ['titan', 'nova', 'llama', 'cohere'] as const) {
      expect(
        JSON.stringify(
          ADAPTERS[family].toNative(withNative, catalog.list().find((m) => m.family === family)!),
        ),
      ).not.toContain('top_k');
    }
  });
});

describe('Korean text through every family', () => {
  const korean: ModelRequest = {
    system: '당신은 간결한 요약가입니다.',
    messages: [
      {
        role: 'user',
        content: '다음 문서를 한국어로 요약해 주세요: 서울은 대한민국의 수도이며 인구는 약 천만 명이다.',
      },
    ],
  };

  it.each(FAMILIES)('%s keeps the prompt and system text byte for byte', (family) => {
    const model = catalog.list().find((m) => m.family === family)!;

    const wire = Buffer.from(JSON.stringify(ADAPTERS[family].toNative(korean, model)), 'utf8');
    const decoded = wire.toString('utf8');

    for (const text of [korean.system!, korean.messages[0]!.content]) {
      const escaped = JSON.stringify(text).slice(1, -1);
      expect(wire.includes(Buffer.from(escaped, 'utf8'))).toBe(true);
      expect(decoded).toContain(escaped);
    }
  });

  it('keeps any unicode text verbatim in every native body', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1 }),
        fc.string({ unit: 'grapheme' }),
        (user, system) => {
          const req: ModelRequest = {
            messages: [{ role: 'user', content: user }],
            ...(system ? { system } : {}),
          };
          for (const family of FAMILIES) {
            const model = catalog.list().find((m) => m.family === family)!;
            const text = JSON.stringify(JSON.parse(JSON.stringify(ADAPTERS[family].toNative(req, model))));
            expect(text).toContain(JSON.stringify(user).slice(1, -1));
            if (system) expect(text).toContain(JSON.stringify(system).slice(1, -1));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
