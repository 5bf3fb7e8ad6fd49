import { describe, expect, it } from 'vitest';
import { compareStreamIds, maxStreamId, sseEvent } from './sse.js';

describe('compareStreamIds', () => {
  it('orders by milliseconds, then sequence, as numbers rather than text', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('1700000000000-5', '1700000000000-5')).toBe(0);
    expect(compareStreamIds('1700000000001-0', '1700000000000-99')).toBeGreaterThan(0);
    expect(maxStreamId('10-2', '10-10')).toBe('10-10');
  });
});

describe('sseEvent', () => {
  it('frames one event with its id, and keeps line breaks inside data escaped', () => {
    expect(sseEvent('job.failed', { error: 'two\nlines' }, '5-1')).toBe(
      'id: 5-1\nevent: job.failed\ndata: {"error":"two\\nlines"}\n\n',
    );
    expect(sseEvent('progress', { total: 1 })).toBe('event: progress\ndata: {"total":1}\n\n');
  });
});
