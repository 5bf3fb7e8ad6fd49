import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE } from '../../src/units.js';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import { jsonLines, runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'bj-cli-redis-'));
let evicting: OwnRedis;
let locked: OwnRedis;

beforeAll(async () => {
  [evicting, locked] = await Promise.all([
    startOwnRedis(['--maxmemory-policy', 'allkeys-lru']),
    startOwnRedis(['--requirepass', 'right-pw-5e2f']),
  ]);
});
afterAll(async () => {
  await Promise.all([evicting?.close(), locked?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

// Each test starts the CLI (Node and tsx): generous bounds, so a slow machine is never a failure.
describe('the CLI and Redis', { timeout: 2 * MINUTE }, () => {
  it('config print shows no Redis password, from the URL or from REDIS_PASSWORD', async () => {
    const run = await runCli(['--json', 'config', 'print'], {
      env: { REDIS_URL: 'rediss://app:url-pw-4c1d@cache.example.com:6380', REDIS_PASSWORD: 'env-pw-77ab' },
    });
    const [config] = jsonLines(run.stdout);

    expect(run.code).toBe(0);
    expect(config).toMatchObject({
      redisUrl: 'rediss://app:***@cache.example.com:6380',
      redis: { password: '[redacted]', cluster: false },
    });
    expect(run.stdout).not.toMatch(/url-pw-4c1d|env-pw-77ab/);
  });

  it('worker and enqueue refuse a Redis that may evict keys, saying what to set, without a stack', async () => {
    const jobs = join(dir, 'jobs.jsonl');
    writeFileSync(jobs, '{"id":"a","task":"generate","messages":[{"role":"user","content":"Hi"}]}\n');
    const env = { REDIS_URL: evicting.url, BEDROCK_ENDPOINT: 'http://127.0.0.1:9' };

    const [worker, enqueue] = await Promise.all([
      runCli(['worker'], { env }),
      runCli(['enqueue', jobs, '--batch', 'never'], { env }),
    ]);

    for (const run of [worker, enqueue]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /bedrock-jobs: Redis maxmemory-policy is allkeys-lru, not noeviction: .* Set maxmemory-policy to noeviction/,
      );
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('worker, enqueue, status and results stop at once on a wrong Redis password, saying what to check', async () => {
    const jobs = join(dir, 'login.jsonl');
    writeFileSync(jobs, '{"id":"a","task":"generate","messages":[{"role":"user","content":"Hi"}]}\n');
    const url = new URL(locked.url);
    url.password = 'wrong-pw-91c3';
    const env = { REDIS_URL: url.toString(), BEDROCK_ENDPOINT: 'http://127.0.0.1:9' };

    const runs = await Promise.all([
      runCli(['worker'], { env }),
      runCli(['enqueue', jobs, '--batch', 'login'], { env }),
      runCli(['status'], { env }),
      runCli(['results', 'login'], { env }),
    ]);

    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /bedrock-jobs: Redis at 127\.0\.0\.1:\d+ refused the login \(WRONGPASS\): check the user and password in REDIS_URL/,
      );
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(run.stdout + run.stderr).not.toContain('wrong-pw-91c3');
    }
  });
});
