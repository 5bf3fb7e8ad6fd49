import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MINUTE } from '../../src/units.js';
import { jsonLines, runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'bj-cli-callbacks-'));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-cli-cb-${randomUUID()}}`;
const env = { REDIS_URL: redisUrl, BEDROCK_JOBS_CONFIG: join(dir, 'config.json') };
writeFileSync(env.BEDROCK_JOBS_CONFIG, JSON.stringify({ prefix }));
const file = join(dir, 'jobs.jsonl');
writeFileSync(
  file,
  ['a', 'b', 'c']
    .map((id) =>
      JSON.stringify({ id: `cli-${id}`, task: 'generate', messages: [{ role: 'user', content: 'Hi' }] }),
    )
    .join('\n'),
);

afterAll(async () => {
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

// Each test starts the CLI (Node and tsx): generous bounds, so a slow machine is never a failure.
describe('enqueue --callback-url', { timeout: 2 * MINUTE }, () => {
  it('refuses a URL the service cannot use before enqueueing anything, naming the flag', async () => {
    const scheme = await runCli(
      ['enqueue', file, '--batch', 'cb-refused', '--callback-url', 'ftp://example.com/x'],
      {
        env: { ...env, CALLBACK_SECRET: 'a-secret-of-enough-length' },
      },
    );
    const unsigned = await runCli(
      ['enqueue', file, '--batch', 'cb-refused', '--callback-url', 'https://example.com/x'],
      {
        env,
      },
    );
    const status = await runCli(['status', 'cb-refused'], { env });

    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('--callback-url: must be an http:// or https:// URL');
    expect(unsigned.code).toBe(2);
    expect(unsigned.stderr).toContain('--callback-url: needs a signing secret: set CALLBACK_SECRET');
    expect(status.stderr).toContain('no batch cb-refused');
  });

  it('gives the batch its callback and seals it once every job is in', async () => {
    const run = await runCli(
      [
        'enqueue',
        file,
        '--batch',
        'cb-ok',
        '--callback-url',
        'https://hooks.example.com/done',
        '--callback-on',
        'failed-and-done',
      ],
      { env: { ...env, CALLBACK_SECRET: 'a-secret-of-enough-length' } },
    );
    const status = await runCli(['--json', 'status', 'cb-ok'], { env });

    expect(run.code).toBe(0);
    expect(jsonLines(status.stdout)).toEqual([
      expect.objectContaining({
        batchId: 'cb-ok',
        total: 3,
        sealed: true,
        done: false,
        callback: {
          on: 'failed-and-done',
          status: 'waiting',
          attempts: 0,
          failedJobs: { delivered: 0, failed: 0 },
        },
      }),
    ]);
  });
});
