import { describe, expect, it } from 'vitest';
import { csvField, csvRow } from './export.js';
import type { ResultRecord } from './record.js';

describe('csvField', () => {
  it('leaves plain values unquoted and writes nothing for absent ones', () => {
    expect([csvField('abc'), csvField(0.5), csvField(null), csvField(undefined), csvField('요약')]).toEqual([
      'abc',
      '0.5',
      '',
      '',
      '요약',
    ]);
  });

  it('quotes fields with commas, quotes or line breaks and doubles the quotes (RFC 4180)', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\rlf')).toBe('"cr\rlf"');
  });
});

describe('csvRow', () => {
  it('writes the columns in order and ends with CRLF', () => {
    const record: ResultRecord = {
      id: 'j1',
      batchId: null,
      status: 'failed',
      text: null,
      stopReason: null,
      modelId: null,
      attempts: [],
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
      enqueuedAt: '2026-01-01T00:00:00Z',
      startedAt: '2026-01-01T00:00:00Z',
      finishedAt: '2026-01-01T00:00:00Z',
      error: 'models: all "throttled", then gave up',
    };

    expect(csvRow(record)).toBe('j1,failed,,0,0,0,,,"models: all ""throttled"", then gave up"\r\n');
  });
});
