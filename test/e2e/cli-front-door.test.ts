import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MINUTE } from '../../src/units.js';
import { jsonLines, runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'bj-door-'));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-door-${randomUUID()}}`;
const env = { REDIS_URL: redisUrl, BEDROCK_JOBS_CONFIG: join(dir, 'config.json') };
writeFileSync(env.BEDROCK_JOBS_CONFIG, JSON.stringify({ prefix }));
const line = (id: string) =>
  Buffer.from(`${JSON.stringify({ id, task: 'generate', messages: [{ role: 'user', content: 'Hi' }] })}\n`);

afterAll(async () => {
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

// Each test starts the CLI (Node and tsx) one or more times: generous bounds, so a slow
// machine is never a failure.
describe('the CLI front door', { timeout: 2 * MINUTE }, () => {
  it('refuses a JSONL line that is not UTF-8, naming file and line, and enqueues nothing', async () => {
    const file = join(dir, 'bad-bytes.jsonl');
    const broken = Buffer.concat([
      Buffer.from('{"id":"collide-'),
      Buffer.from([0xff]),
      Buffer.from('","task":"generate"}\n'),
    ]);
    writeFileSync(file, Buffer.concat([line('fine-1'), broken]));

    const run = await runCli(['enqueue', file, '--batch', 'bytes'], { env });
    const status = await runCli(['status', 'bytes', '--json'], { env });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file} line 2: is not valid UTF-8`);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('no batch bytes');
  });

  it('gives documents whose names differ only in bytes that are not UTF-8 ids of their own', async () => {
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    const name = (b: number) =>
      Buffer.concat([Buffer.from(join(docs, 'collide-')), Buffer.from([b]), Buffer.from('.txt')]);
    writeFileSync(name(0xff), 'The first document.');
    writeFileSync(name(0xfe), 'The second document.');
    mkdirSync(join(docs, 'folder.txt'));

    const run = await runCli(['--json', 'enqueue', docs, '--batch', 'names'], { env });

    expect(run.stderr).toBe('');
    expect(jsonLines(run.stdout)).toEqual([{ batchId: 'names', enqueued: 2, duplicates: 0 }]);
  });

  it('refuses ids with control characters and batch ids with ":" before reading anything', async () => {
    const file = join(dir, 'newline.jsonl');
    writeFileSync(file, line('two\nlines'));

    const badId = await runCli(['enqueue', file], { env });
    const badBatch = await runCli(['enqueue', file, '--batch', 'b:jobs'], { env });
    const badStatus = await runCli(['status', 'b:jobs'], { env });

    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(
      /line 1\.id: must hold only letters, digits, punctuation, symbols and inner spaces: character 4 is U\+000A/,
    );
    expect(badBatch.code).toBe(2);
    expect(badBatch.stderr).toMatch(/--batch: must not contain ":"/);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/batch id: must not contain ":"/);
  });

  it('refuses to serve the API beyond loopback without a token', async () => {
    const run = await runCli(['api', '--host', '0.0.0.0', '--port', '1'], { env });

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 without API_TOKEN/);
  });
});
