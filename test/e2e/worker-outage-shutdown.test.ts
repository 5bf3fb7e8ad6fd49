import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type OwnRedis, startOwnRedis } from '../helpers/redis-server.js';
import { BIN, ROOT } from './helpers.js';

interface LogLine {
  msg?: string;
  time?: number;
}

/** The worker's JSON log lines (stderr) as they come, and a way to wait for one. */
function follow(child: ChildProcessWithoutNullStreams) {
  const lines: LogLine[] = [];
  const waiters: { test: (l: LogLine) => boolean; resolve: () => void }[] = [];
  let rest = '';
  child.stderr.on('data', (d: Buffer) => {
    rest += d.toString('utf8');
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      const line = JSON.parse(part) as LogLine;
      lines.push(line);
      for (const w of waiters.filter((x) => x.test(line))) w.resolve();
    }
  });
  return {
    lines,
    until(msg: string | RegExp): Promise<void> {
      const test = (l: LogLine) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg ?? ''));
      if (lines.some(test)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

let redis: OwnRedis | undefined;
let dir: string | undefined;
let child: ChildProcessWithoutNullStreams | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  redis = undefined;
  dir = undefined;
  child = undefined;
});

describe('worker shutdown during a Redis outage', () => {
  it('exits after SIGTERM while Redis is down, with a line saying so, two seconds after its deadline', async () => {
    redis = await startOwnRedis();
    dir = mkdtempSync(join(tmpdir(), 'bj-shutdown-'));
    const configFile = join(dir, 'config.json');
    const shutdownTimeoutMs = 500;
    writeFileSync(configFile, JSON.stringify({ worker: { shutdownTimeoutMs } }));
    child = spawn(process.execPath, [BIN, 'worker'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        LOG_LEVEL: 'info',
        REDIS_URL: redis.url,
        BEDROCK_ENDPOINT: 'http://127.0.0.1:9',
        BEDROCK_JOBS_CONFIG: configFile,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const log = follow(child);
    await log.until('worker started');
    await redis.kill();
    await log.until('redis connection error');

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];

    const at = (msg: string) => log.lines.find((l) => l.msg === msg)?.time ?? Number.NaN;
    const stoppedAfterMs = at('worker stopped') - at('stopping: finishing active jobs');

    expect(code).toBe(0);
    expect(log.lines.map((l) => l.msg)).toContain('worker stopped');
    // The worker's own clock: the deadline, then two seconds for jobs to go back before every
    // connection is cut at once (docs/failure-modes.md), and as long again for a busy machine.
    // Cutting its connections one after another, each after two seconds, took 6 s more.
    expect(stoppedAfterMs).toBeLessThan(shutdownTimeoutMs + 4_000);
  }, 90_000);
});
