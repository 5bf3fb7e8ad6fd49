import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'bj-cli-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('CLI configuration', () => {
  it('refuses a bad config file at start, naming the file and each field', async () => {
    const bad = file('bad.yaml', 'worker:\n  concurrency: 0\nretries: 3\n');

    const run = await runCli(['--config', bad, 'config', 'print']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(bad);
    expect(run.stderr).toContain('worker.concurrency');
    expect(run.stderr).toMatch(/retries/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a config that is not YAML, naming the file', async () => {
    const broken = file('broken.yaml', 'chains: [unclosed\n  : :');

    const run = await runCli(['config', 'check', broken]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(broken);
    expect(run.stderr).toMatch(/not valid YAML/);
  });

  it('prints the effective config with defaults and without the API token', async () => {
    const run = await runCli(['--json', 'config', 'print'], {
      env: { API_TOKEN: 'super-secret-token', REDIS_URL: 'redis://10.0.0.1:6380' },
    });
    const [config] = jsonLines(run.stdout);

    expect(run.code).toBe(0);
    expect(config).toMatchObject({
      redisUrl: 'redis://10.0.0.1:6380',
      prefix: '{bj}',
      apiToken: '[redacted]',
    });
    expect(run.stdout).not.toContain('super-secret-token');
  });

  it('lists at least 20 models of all six families', async () => {
    const run = await runCli(['--json', 'models']);
    const [models] = jsonLines(run.stdout) as unknown as { family: string }[][];

    expect(run.code).toBe(0);
    expect(models!.length).toBeGreaterThanOrEqual(20);
    expect(new Set(models!.map((m) => m.family))).toEqual(
      new Set(['anthropic', 'titan', 'nova', 'llama', 'mistral', 'cohere']),
    );
  });

  it('names the problem of an unknown command and of a bad option value', async () => {
    const unknown = await runCli(['frobnicate']);
    const badPort = await runCli(['simulator', '--port', 'abc']);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/--port must be a positive number/);
  });
});
