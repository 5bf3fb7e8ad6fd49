import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, streamResults } from '../../src/results/export.js';
import type { ResultRecordInput } from '../../src/results/record.js';
import { ResultStore } from '../../src/results/store.js';
import { redisTimeMs, useRedis } from '../helpers/redis.js';

const ctx = useRedis();

function result(
  id: string,
  batchId: string | null,
  over: Partial<ResultRecordInput> = {},
): ResultRecordInput {
  return {
    id,
    batchId,
    status: 'completed',
    text: `summary of ${id}`,
    stopReason: 'end_turn',
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    attempts: [{ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', outcome: 'ok', latencyMs: 12 }],
    usage: { inputTokens: 100, outputTokens: 20 },
    costUsd: 0.00005,
    enqueuedAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:01.000Z',
    finishedAt: '2026-01-01T00:00:02.000Z',
    ...over,
  };
}

function failed(id: string, batchId: string): ResultRecordInput {
  return result(id, batchId, {
    status: 'failed',
    text: null,
    stopReason: null,
    modelId: null,
    attempts: [
      { modelId: 'amazon.titan-text-express-v1', outcome: 'throttled', httpStatus: 429, latencyMs: 3 },
    ],
    error: 'every model in chain "default" failed',
  });
}

/** A minimal RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(input: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && input[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('ResultStore', () => {
  it('saves a result once: a second save of the same id returns false and counts nothing', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });

    const first = await store.save(result('job-1', 'b1'));
    const second = await store.save(result('job-1', 'b1', { text: 'a different answer' }));

    expect([first, second]).toEqual([true, false]);
    expect((await store.get('job-1'))?.text).toBe('summary of job-1');
    expect(await store.batch('b1')).toEqual({ batchId: 'b1', total: 0, completed: 1, failed: 0 });
    expect(await ctx.redis.xlen(store.keys.results)).toBe(1);
  });

  it('counts completed and failed results per batch and appends each to the results stream', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });

    await store.save(result('a', 'b1'));
    await store.save(failed('b', 'b1'));
    await store.save(result('c', null));

    expect(await store.batch('b1')).toMatchObject({ completed: 1, failed: 1 });
    const entries = await ctx.redis.xrange(store.keys.results, '-', '+');
    expect(entries.map(([, fields]) => fields)).toEqual([
      ['id', 'a', 'batchId', 'b1', 'status', 'completed'],
      ['id', 'b', 'batchId', 'b1', 'status', 'failed'],
      ['id', 'c', 'batchId', '', 'status', 'completed'],
    ]);
  });

  it('stores results with the configured TTL', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix, ttlSeconds: 120 });

    const before = await redisTimeMs(ctx.redis);
    await store.save(result('job-ttl', 'b1'));
    const after = await redisTimeMs(ctx.redis);

    // On Redis's own clock the key expires 120 s after it was written, however long the test
    // took to ask.
    const expiresAt = await ctx.redis.pexpiretime(store.keys.result('job-ttl'));
    expect(expiresAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(expiresAt).toBeLessThanOrEqual(after + 120_000);
  });

  it('refuses a completed result without text, naming the field', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });

    await expect(store.save(result('x', null, { text: null }))).rejects.toThrow(/text/);
    expect(await store.get('x')).toBeUndefined();
  });

  it('reads many results in order, with undefined for ids that have none', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await store.save(result('r1', null));
    await store.save(result('r3', null));

    const many = await store.getMany(['r1', 'r2', 'r3']);

    expect(many.map((r) => r?.id)).toEqual(['r1', undefined, 'r3']);
  });

  it('has no counters for a batch that never existed', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });

    expect(await store.batch('nope')).toBeUndefined();
  });
});

describe('exporting a batch', () => {
  const tricky = '요약: "quoted", with commas,\nnew lines\r\nand more';

  async function saveThousand(store: ResultStore): Promise<void> {
    for (let i = 0; i < 1_000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => {
          const n = i + j;
          return store.save(
            n % 10 === 9 ? failed(`doc-${n}`, 'big') : result(`doc-${n}`, 'big', { text: `${tricky} ${n}` }),
          );
        }),
      );
    }
  }

  it('round-trips 1,000 results through CSV, with quotes, commas, new lines and Korean intact', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await saveThousand(store);

    const csv = await text(streamResults(store, 'big', { format: 'csv', pageSize: 128 }));

    const [header, ...rows] = parseCsv(csv);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(1_000);
    const byId = new Map(rows.map((r) => [r[0], r]));
    expect(byId.get('doc-5')).toEqual([
      'doc-5',
      'completed',
      'anthropic.claude-3-haiku-20240307-v1:0',
      '100',
      '20',
      '0.00005',
      'end_turn',
      `${tricky} 5`,
      '',
    ]);
    expect(byId.get('doc-9')?.slice(1, 3)).toEqual(['failed', '']);
    expect(byId.get('doc-9')?.[8]).toBe('every model in chain "default" failed');
  });

  it('round-trips 1,000 results through JSONL, one result record per line', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await saveThousand(store);

    const jsonl = await text(streamResults(store, 'big', { format: 'jsonl', pageSize: 128 }));

    const lines = jsonl.split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((l) => JSON.parse(l));
    expect(records).toHaveLength(1_000);
    expect(new Set(records.map((r) => r.id)).size).toBe(1_000);
    expect(records.find((r) => r.id === 'doc-5')).toEqual(
      JSON.parse(JSON.stringify(result('doc-5', 'big', { text: `${tricky} 5` }))),
    );
  });

  it('exports only the header for a batch without results', async () => {
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });

    expect(await text(streamResults(store, 'none', { format: 'csv' }))).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
    expect(await text(streamResults(store, 'none', { format: 'jsonl' }))).toBe('');
  });
});
