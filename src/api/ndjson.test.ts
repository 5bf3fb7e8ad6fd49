import { describe, expect, it } from 'vitest';
import { LineError, readLines } from './ndjson.js';

async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function all(source: AsyncIterable<Buffer>, max = 100) {
  const out: [number, string][] = [];
  for await (const line of readLines(source, max, 'is too long')) out.push([line.number, line.text]);
  return out;
}

describe('readLines', () => {
  it('joins lines split across chunks and numbers them as the file does, blank lines counted', async () => {
    const lines = await all(chunks('{"a"', ':1}\n\n  \n{"b":2}\r\n{"c"', ':3}'));

    expect(lines).toEqual([
      [1, '{"a":1}'],
      [4, '{"b":2}'],
      [5, '{"c":3}'],
    ]);
  });

  it('drops a byte-order mark before the first line', async () => {
    expect(await all(chunks('\uFEFF{"a":1}\n'))).toEqual([[1, '{"a":1}']]);
  });

  it('refuses a line over the limit with 413 naming it, before holding more of it', async () => {
    const reader = readLines(chunks('{"a":1}\n', 'x'.repeat(60), 'x'.repeat(60)), 100, 'is too long');
    const first = await reader.next();

    const error = await reader.next().catch((e: unknown) => e);

    expect(first.value).toMatchObject({ number: 1 });
    expect(error).toBeInstanceOf(LineError);
    expect(error).toMatchObject({ line: 2, statusCode: 413, message: 'line 2: is too long' });
  });

  it('refuses bytes that are not UTF-8, naming the line', async () => {
    const error = await all(chunks('{"a":1}\n', Buffer.from([0x7b, 0xff, 0x7d, 0x0a]))).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ line: 2, statusCode: 400, message: 'line 2: is not valid UTF-8' });
  });
});
