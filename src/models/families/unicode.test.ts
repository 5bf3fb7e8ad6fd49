import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FAMILY_DEFAULTS, type ModelInfo } from '../info.js';
import { type ChatMessage, type ModelRequest, NATIVE_FAMILIES, type NativeFamily } from '../request.js';
import { ADAPTERS } from './index.js';

const modelOf = (family: NativeFamily): ModelInfo => ({
  ...FAMILY_DEFAULTS[family],
  id: `test.${family}`,
  name: family,
  aliases: [],
});

/** Every string value anywhere in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

const korean: ModelRequest = {
  system: '당신은 간결한 요약가입니다. 반드시 한국어로 답하세요.',
  messages: [
    {
      role: 'user',
      content:
        '다음 문서를 한국어로 요약해 주세요: 서울은 대한민국의 수도이며 인구는 약 천만 명이다. ' +
        '한강이 도시를 가로지르고, 경복궁과 남산타워가 유명하다.',
    },
    { role: 'assistant', content: '서울은 한국의 수도로, 약 천만 명이 산다.' },
    { role: 'user', content: '더 짧게, 한 문장으로 써 주세요 — 「요약」만.' },
  ],
};

describe('Korean text through every family', () => {
  it.each(NATIVE_FAMILIES)('%s keeps the Korean system prompt and every turn byte for byte', (family) => {
    const wire = Buffer.from(JSON.stringify(ADAPTERS[family].toNative(korean, modelOf(family))), 'utf8');

    // Cohere and Mistral may place a text in a larger string, but never re-encode it.
    const texts = [korean.system!, ...korean.messages.map((m) => m.content)];
    for (const text of texts) expect(wire.includes(Buffer.from(text, 'utf8'))).toBe(true);
    expect(wire.toString('utf8')).not.toMatch(/\\u[0-9a-f]{4}/i);
  });

  it.each(NATIVE_FAMILIES)('%s gives back a Korean answer unchanged', (family) => {
    const text = '서울은 대한민국의 수도이다.';
    const answers: Record<NativeFamily, unknown> = {
      anthropic: {
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1, output_tokens: 1 },
      },
      titan: {
        inputTextTokenCount: 1,
        results: [{ tokenCount: 1, outputText: text, completionReason: 'FINISH' }],
      },
      nova: {
        output: { message: { content: [{ text }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 1, outputTokens: 1 },
      },
      llama: { generation: text, prompt_token_count: 1, generation_token_count: 1, stop_reason: 'stop' },
      mistral: { outputs: [{ text, stop_reason: 'stop' }] },
      cohere: { text, finish_reason: 'COMPLETE' },
    };
    const decoded = JSON.parse(Buffer.from(JSON.stringify(answers[family]), 'utf8').toString('utf8'));

    expect(ADAPTERS[family].fromNative(decoded).text).toBe(text);
  });
});

/** Any code point, or whole graphemes (emoji sequences, combining marks, Hangul jamo). */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
);

const conversations = fc
  .tuple(fc.option(anyText, { nil: undefined }), fc.array(anyText, { minLength: 1, maxLength: 5 }))
  .map(([system, texts]): ModelRequest => {
    // Alternate roles and end on a user turn, as the job schema requires.
    const turns = texts.length % 2 === 1 ? texts : texts.slice(1);
    const messages = turns.map(
      (content, i): ChatMessage => ({ role: i % 2 === 0 ? 'user' : 'assistant', content }),
    );
    return { ...(system === undefined ? {} : { system }), messages };
  });

describe('any unicode text', () => {
  it('appears verbatim in every family native body after a JSON round trip', () => {
    fc.assert(
      fc.property(conversations, (request) => {
        for (const family of NATIVE_FAMILIES) {
          const body = JSON.parse(JSON.stringify(ADAPTERS[family].toNative(request, modelOf(family))));
          const inBody = strings(body);
          const texts = [
            ...(request.system ? [request.system] : []),
            ...request.messages.map((m) => m.content),
          ];
          for (const text of texts) expect(inBody.some((s) => s.includes(text))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
