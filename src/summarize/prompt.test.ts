import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config.js';
import { buildSummaryRequest, detectLanguage } from './prompt.js';

describe('summary prompts', () => {
  it('asks for a Korean summary of a Korean document', () => {
    const doc = '서울은 대한민국의 수도이다. 인구는 약 천만 명이다.';

    const req = buildSummaryRequest({ document: doc, family: 'anthropic' });

    expect(req.messages).toHaveLength(1);
    expect(req.messages[0]?.content).toContain('in Korean');
    expect(req.messages[0]?.content).toContain(`<document>\n${doc}\n</document>`);
  });

  it('detects the dominant script', () => {
    expect(detectLanguage('The quarterly report shows growth.')).toBe('English');
    expect(detectLanguage('계약 기간은 2024년 1월 1일부터 12월 31일까지이다.')).toBe('Korean');
    expect(detectLanguage('東京は日本の首都です。ひらがなとカタカナ。')).toBe('Japanese');
  });

  it('uses the language the job asks for over the detected one', () => {
    const req = buildSummaryRequest({ document: 'Hello world.', family: 'nova', language: 'German' });

    expect(req.messages[0]?.content).toContain('in German');
  });

  it('keeps a document that itself contains template placeholders as written', () => {
    const doc = 'Use {document} and {language} and $& literally.';

    const req = buildSummaryRequest({ document: doc, family: 'llama' });

    expect(req.messages[0]?.content).toContain(doc);
  });

  it('takes the family template and summary length from config', () => {
    const config = ConfigSchema.parse({
      summarize: {
        maxOutputTokens: 300,
        templates: { titan: { instruction: 'TL;DR ({language}): <document>{document}</document>' } },
      },
    });

    const req = buildSummaryRequest({ document: 'A short text.', family: 'titan', config });

    expect(req.messages[0]?.content).toBe('TL;DR (English): <document>A short text.</document>');
    expect(req.params?.maxTokens).toBe(300);
  });
});
