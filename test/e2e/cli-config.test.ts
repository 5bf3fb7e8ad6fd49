import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/models/request.js';
import { MINUTE } from '../../src/units.js';
import { BIN, type CliRun, jsonLines, ROOT, runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'bj-cli-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

// Each test starts the CLI (Node and tsx) one or more times: generous bounds, so a slow
// machine is never a failure.
describe('CLI configuration', { timeout: 2 * MINUTE }, () => {
  it('refuses a bad config file at start, naming the file and each field', async () => {
    const bad = file('bad.yaml', 'worker:\n  concurrency: 0\nretries: 3\n');

    const run = await runCli(['--config', bad, 'config', 'print']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(bad);
    expect(run.stderr).toContain('worker.concurrency');
    expect(run.stderr).toMatch(/retries/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads the config file named by BEDROCK_JOBS_CONFIG and refuses it the same way', async () => {
    const bad = file('env-bad.json', JSON.stringify({ policy: { retry: { maxAttempts: -1 } } }));

    const run = await runCli(['models'], { env: { BEDROCK_JOBS_CONFIG: bad } });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(bad);
    expect(run.stderr).toContain('policy.retry.maxAttempts');
  });

  it('refuses a missing config file, naming it', async () => {
    const missing = join(dir, 'missing.yaml');

    const run = await runCli(['--config', missing, 'config', 'print']);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(missing);
  });

  it('refuses a config that is not YAML, naming the file', async () => {
    const broken = file('broken.yaml', 'chains: [unclosed\n  : :');

    const run = await runCli(['config', 'check', broken]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(broken);
    expect(run.stderr).toMatch(/not valid YAML/);
  });

  it('prints the effective config with defaults and without the API tokens', async () => {
    const run = await runCli(['--json', 'config', 'print'], {
      env: {
        API_TOKEN: 'super-secret-token',
        API_TOKENS: 'viewer:read:scoped-secret-token-1',
        REDIS_URL: 'redis://10.0.0.1:6380',
      },
    });
    const [config] = jsonLines(run.stdout);

    expect(run.code).toBe(0);
    expect(config).toMatchObject({
      redisUrl: 'redis://10.0.0.1:6380',
      prefix: '{bj}',
      apiToken: '[redacted]',
      api: { tokens: [{ name: 'viewer', scope: 'read', token: '[redacted]' }] },
    });
    expect(run.stdout).not.toContain('super-secret-token');
    expect(run.stdout).not.toContain('scoped-secret-token-1');
  });

  it('lists at least 40 models of every family, and the fleet rate of each default chain model', async () => {
    const run = await runCli(['--json', 'models']);
    const [listing] = jsonLines(run.stdout) as unknown as {
      models: { family: string }[];
      fleet?: { modelId: string; rate?: { rpm: number } }[];
    }[];
    const models = listing?.models;
    const fleet = listing?.fleet;

    expect(run.code).toBe(0);
    expect(models!.length).toBeGreaterThanOrEqual(40);
    expect(new Set(models!.map((m) => m.family))).toEqual(new Set(FAMILIES));
    expect(fleet?.map((f) => f.modelId)).toEqual([
      'anthropic.claude-haiku-4-5-20251001-v1:0',
      'us.meta.llama3-3-70b-instruct-v1:0',
      'amazon.nova-lite-v1:0',
    ]);
    expect(fleet?.every((f) => (f.rate?.rpm ?? 0) > 0)).toBe(true);
  });

  it('answers --help for every command without reading the config', { timeout: 5 * MINUTE }, async () => {
    const env = { BEDROCK_JOBS_CONFIG: file('never-read.yaml', 'worker: { concurrency: 0 }\n') };
    const root = await runCli(['--help'], { env });
    const commands = [...root.stdout.matchAll(/^ {2}(\w[\w-]*)\b/gm)]
      .map((m) => m[1] ?? '')
      .filter((c) => c !== 'help');

    // Two at a time, one per core: a dozen CLIs starting at once on a busy machine would each
    // take longer than their own time limit.
    const helps: CliRun[] = [];
    const all = [...commands, 'config print', 'config check'];
    for (let i = 0; i < all.length; i += 2) {
      helps.push(
        ...(await Promise.all(all.slice(i, i + 2).map((c) => runCli([...c.split(' '), '--help'], { env })))),
      );
    }

    expect(root.code).toBe(0);
    expect(commands).toEqual(expect.arrayContaining(['config', 'models']));
    for (const [i, help] of helps.entries()) {
      expect(help.code, `--help of ${commands[i] ?? 'config …'}`).toBe(0);
      expect(help.stdout).toMatch(/^Usage: bedrock-jobs /);
    }
  });

  it('exits quietly when the reader of its output has gone', async () => {
    const child = spawn(process.execPath, [BIN, 'models'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });

    const [code] = await once(child, 'close');

    expect(code).toBe(0);
    expect(stderr).toBe('');
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
