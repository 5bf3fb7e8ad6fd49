import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/context.js';
import { enqueueSource } from '../../src/cli/enqueue-source.js';
import { byteLines, type InputJob, readJobs } from '../../src/cli/input.js';
import { loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { keysFor } from '../../src/redis/keys.js';
import { CLEAN_EVERY, fuzzRuns, fuzzTimeout, hostileJob, validJob } from '../helpers/fuzz.js';
import { deleteKeys, useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const dir = mkdtempSync(join(tmpdir(), 'bj-fuzz-input-'));
const DOCUMENT_BYTES = 4 * 1024;
const IN_PROCESS_RUNS = fuzzRuns(300);
const REDIS_RUNS = fuzzRuns(60);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One line of a JSONL file as bytes: a job, hostile JSON, broken JSON, bytes that are not UTF-8, or blank. */
const lineBytes = fc.oneof(
  { weight: 6, arbitrary: hostileJob(DOCUMENT_BYTES).map((j) => Buffer.from(JSON.stringify(j))) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => Buffer.from(JSON.stringify(v))) },
  // Any bytes but a line's own end (LF, and CR before it).
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ maxLength: 16 })
      .map((b) => Buffer.from(b.filter((x) => x !== 0x0a && x !== 0x0d))),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '   ', '{', '{"a":1', '[]', 'null', '"x"').map((t) => Buffer.from(t)),
  },
);

/** A file's lines joined with LF or CRLF, with or without a last newline. */
/** Lines of valid jobs only: about one file in four, so every run has files that go in whole. */
const goodLines = fc.array(
  validJob(DOCUMENT_BYTES).map((j) => Buffer.from(JSON.stringify(j))),
  { minLength: 1, maxLength: 8 },
);
const fileOf = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: fc.array(lineBytes, { maxLength: 8 }) },
      { weight: 1, arbitrary: goodLines },
    ),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([lines, crlf, lastNewline]) => {
    const eol = Buffer.from(crlf ? '\r\n' : '\n');
    const parts = lines.flatMap((l, i) => (i < lines.length - 1 || lastNewline ? [l, eol] : [l]));
    return { lines, bytes: Buffer.concat(parts) };
  });

/** What reading `lines` must give: the jobs of the lines before the first bad one, and that line's number. */
function expected(lines: readonly Buffer[]): { jobs: unknown[]; badLine?: number } {
  const jobs: unknown[] = [];
  for (const [i, bytes] of lines.entries()) {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return { jobs, badLine: i + 1 };
    }
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { jobs, badLine: i + 1 };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { jobs, badLine: i + 1 };
    jobs.push(value);
  }
  return { jobs };
}

let files = 0;
function write(bytes: Buffer): string {
  const file = join(dir, `input-${files++}.jsonl`);
  writeFileSync(file, bytes);
  return file;
}

describe('reading jobs from files and standard input', () => {
  it(
    'splits any bytes, however they arrive, into the lines of the file (LF or CRLF)',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 200 }),
          fc.array(fc.nat(200), { maxLength: 6 }),
          async (raw, cuts) => {
            const bytes = Buffer.from(raw);
            const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
            const chunks = [...at, bytes.length].map((end, i) =>
              bytes.subarray(i === 0 ? 0 : at[i - 1], end),
            );
            const lines: string[] = [];
            for await (const line of byteLines(Readable.from(chunks))) lines.push(line.toString('hex'));

            const pieces = bytes.toString('latin1').split('\n');
            if (pieces.at(-1) === '') pieces.pop();
            const want = pieces.map((p) =>
              Buffer.from(p.endsWith('\r') ? p.slice(0, -1) : p, 'latin1').toString('hex'),
            );
            expect(lines).toEqual(want);
          },
        ),
        { numRuns: IN_PROCESS_RUNS },
      );
    },
    fuzzTimeout(IN_PROCESS_RUNS, 10),
  );

  it(
    'yields the job of every line before the first bad one, then stops naming the file and that line',
    async () => {
      await fc.assert(
        fc.asyncProperty(fileOf, async ({ lines, bytes }) => {
          const file = write(bytes);
          const got: InputJob[] = [];
          let error: unknown;
          try {
            for await (const job of readJobs(file, 'b')) got.push(job);
          } catch (e) {
            error = e;
          }
          const want = expected(lines);

          expect(got.map((j) => j.job)).toEqual(want.jobs);
          if (want.badLine === undefined) expect(error).toBeUndefined();
          else {
            expect(error).toBeInstanceOf(CliError);
            expect((error as CliError).message.startsWith(`${file} line ${want.badLine}: `)).toBe(true);
          }
        }),
        { numRuns: IN_PROCESS_RUNS },
      );
    },
    fuzzTimeout(IN_PROCESS_RUNS, 10),
  );

  it(
    'enqueues a file whole, or nothing of it with a message naming the file, line and field',
    async () => {
      const config = loadConfig({
        env: {},
        overrides: { redisUrl: ctx.url, prefix: ctx.prefix, limits: { maxDocumentBytes: DOCUMENT_BYTES } },
      });
      const producer = createProducer({ redis: ctx.redis, prefix: ctx.prefix, config });
      const keys = keysFor(ctx.prefix);
      let n = 0;
      let whole = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fileOf, async ({ lines, bytes }) => {
            const file = write(bytes);
            const batchId = `file-${n++}`;
            const queued = await ctx.redis.llen(`${ctx.prefix}:jobs:wait`);
            const outcome = await enqueueSource(file, producer, config, { batchId, callback: {} }).catch(
              (e: unknown) => e,
            );
            const jobs = expected(lines);

            if (outcome instanceof Error) {
              expect(outcome).toBeInstanceOf(CliError);
              expect(outcome.message).toMatch(
                new RegExp(`^(${escapeRegExp(file)}(: line \\d+|: holds no job| line \\d+: )|--batch: )`),
              );
              expect(await ctx.redis.exists(keys.batch(batchId))).toBe(0);
              expect(await ctx.redis.llen(`${ctx.prefix}:jobs:wait`)).toBe(queued);
            } else {
              whole++;
              const { enqueued, duplicates } = outcome as { enqueued: number; duplicates: number };
              expect(jobs.badLine).toBeUndefined();
              expect(enqueued + duplicates).toBe(jobs.jobs.length);
              expect(await producer.getBatch(batchId)).toMatchObject({ total: enqueued });
            }
            // Jobs of earlier runs are duplicates now; now and then they go, so Redis stays small.
            if (n % CLEAN_EVERY === 0) await deleteKeys(ctx.redis, ctx.prefix);
          }),
          { numRuns: REDIS_RUNS },
        );
        // Not a vacuous run: some files are good and go in whole.
        expect(whole).toBeGreaterThan(0);
      } finally {
        await producer.close();
      }
    },
    fuzzTimeout(REDIS_RUNS, 40),
  );
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
