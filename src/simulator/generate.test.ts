import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../models/tokens.js';
import { extractiveSummary, generate, pieces, sentencesOf } from './generate.js';
import type { ParsedPrompt } from './native/types.js';

const KOREAN_DOCUMENT = [
  '서울시는 올해 대중교통 요금을 인상하기로 결정했다.',
  '버스 요금은 기본 요금이 300원 오르고 지하철 요금도 함께 오른다.',
  '시는 적자가 누적되어 요금 인상이 불가피하다고 설명했다.',
  '시민 단체는 요금 인상이 서민 부담을 늘린다고 비판했다.',
  '날씨는 대체로 맑겠습니다.',
  '서울시는 요금 인상과 함께 대중교통 서비스 개선 계획도 발표했다.',
  '새 요금은 다음 달 첫째 주부터 적용된다.',
  '점심 메뉴는 김치찌개였어요.',
].join(' ');

const summaryPrompt = (document: string, extra: Partial<ParsedPrompt> = {}): ParsedPrompt => ({
  system: 'You write faithful, concise summaries.',
  turns: [
    {
      role: 'user',
      text: `Summarize the following document in Korean.\n\n<document>\n${document}\n</document>`,
    },
  ],
  maxTokens: 512,
  stopSequences: [],
  ...extra,
});

const input = (prompt: ParsedPrompt, seed = 1) => ({
  prompt,
  family: 'anthropic' as const,
  baseId: 'anthropic.claude-3-haiku-20240307-v1:0',
  inputTokens: 100,
  seed,
});

describe('extractive summaries', () => {
  it('splits Korean sentences on their endings', () => {
    expect(sentencesOf('첫 문장이다. 둘째 문장이에요. 셋째?\n넷째')).toEqual([
      '첫 문장이다.',
      '둘째 문장이에요.',
      '셋째?',
      '넷째',
    ]);
  });

  it('summarizes a Korean document in Korean with its own sentences, first sentence first', () => {
    const g = generate(input(summaryPrompt(KOREAN_DOCUMENT)));

    const sentences = sentencesOf(g.text);
    expect(sentences[0]).toBe('서울시는 올해 대중교통 요금을 인상하기로 결정했다.');
    expect(sentences.length).toBeGreaterThan(1);
    expect(sentences.length).toBeLessThan(sentencesOf(KOREAN_DOCUMENT).length);
    for (const s of sentences) expect(KOREAN_DOCUMENT).toContain(s);
    expect(g.text).not.toContain('점심 메뉴');
    expect(g.stop).toBe('end');
    expect(g.outputTokens).toBe(estimateTokens(g.text, 'anthropic'));
  });

  it('keeps document order', () => {
    const summary = sentencesOf(extractiveSummary(KOREAN_DOCUMENT));
    const positions = summary.map((s) => KOREAN_DOCUMENT.indexOf(s));

    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });
});

describe('generation', () => {
  it('gives the same text for the same seed, model and prompt, another for another seed', () => {
    const prompt: ParsedPrompt = {
      system: '',
      turns: [{ role: 'user', text: 'Write about queues.' }],
      maxTokens: 500,
      stopSequences: [],
    };

    const a = generate(input(prompt, 7));
    const b = generate(input(prompt, 7));
    const c = generate(input(prompt, 8));

    expect(a).toEqual(b);
    expect(c.text).not.toBe(a.text);
  });

  it('answers a Korean prompt with Hangul filler', () => {
    const prompt: ParsedPrompt = {
      system: 'Be brief.',
      turns: [{ role: 'user', text: '작업 대기열에 대해 설명해 주세요.' }],
      maxTokens: 500,
      stopSequences: [],
    };

    const g = generate(input(prompt));

    expect(g.text).toMatch(/[가-힣]/);
    expect(g.text).not.toMatch(/[a-z]/);
  });

  it('cuts at max tokens with a length stop', () => {
    const g = generate(input(summaryPrompt(KOREAN_DOCUMENT, { maxTokens: 10 })));

    expect(g.stop).toBe('length');
    expect(g.outputTokens).toBeLessThanOrEqual(10);
    expect(KOREAN_DOCUMENT.startsWith(g.text)).toBe(true);
  });

  it('cuts before the first stop sequence and names it', () => {
    const g = generate(input(summaryPrompt(KOREAN_DOCUMENT, { stopSequences: ['요금', '대중교통'] })));

    expect(g).toMatchObject({ text: '서울시는 올해 ', stop: 'stop_sequence', stopSequence: '대중교통' });
  });

  it('answers nothing when filtered', () => {
    expect(generate({ ...input(summaryPrompt('x')), filtered: true })).toMatchObject({
      text: '',
      stop: 'filtered',
      outputTokens: 0,
    });
  });

  it('streams pieces that join back into the text', () => {
    const text = generate(input(summaryPrompt(KOREAN_DOCUMENT))).text;

    expect(pieces(text).join('')).toBe(text);
    expect(pieces('')).toEqual(['']);
  });
});
