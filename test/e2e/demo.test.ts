import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { deleteKeys } from '../../src/redis/purge.js';
import { redisUrl } from '../helpers/redis.js';
import { BIN, jsonLines, ROOT, runCli } from './helpers.js';
import { barLines, TmuxTerminal } from './tmux.js';

interface DemoSummary {
  batchId: string;
  documents: number;
  completed: number;
  failed: number;
  perModel: Record<string, number>;
  fallbacks: number;
  wallSeconds: number;
}

// Each demo runs under a prefix of its own (`--prefix`), so its worker takes only its jobs and
// no breaker a demo opened is seen by another, wherever else a demo runs on this Redis.
const prefixes: string[] = [];
const dirs: string[] = [];
const ownPrefix = (): string => {
  const prefix = `{t-demo-${randomUUID().slice(0, 8)}}`;
  prefixes.push(prefix);
  return prefix;
};
let url: string | undefined;

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  if (!url || prefixes.length === 0) return;
  // The demo keeps its results for an hour; this file's go now.
  const redis = new Redis(url);
  for (const prefix of prefixes) await deleteKeys(redis, prefix);
  await redis.quit();
});

describe('npm run demo', () => {
  it("--lane offline runs the corpus through batch inference and shows both lanes' cost", async () => {
    url = await redisUrl();

    const run = await runCli(
      ['--json', 'demo', '--lane', 'offline', '--time-scale', '8', '--prefix', ownPrefix()],
      {
        env: { REDIS_URL: url },
        timeoutMs: 150_000,
      },
    );
    const summary = jsonLines(run.stdout).find((l) => 'summary' in l)?.summary as
      | (DemoSummary & {
          invocationJobs: number;
          lanes: {
            online: { completed: number };
            offline: { completed: number; costUsd: number; onlineCostUsd: number };
          };
        })
      | undefined;

    expect(run.code, run.stderr.slice(-2_000)).toBe(0);
    expect(summary).toMatchObject({ documents: 217, completed: 217, failed: 0, invocationJobs: 1 });
    // Every document went offline, the one longer than every window as chunks merged online.
    expect(summary?.lanes.offline.completed).toBe(217);
    expect(summary?.lanes.online.completed).toBe(0);
    const { costUsd = 0, onlineCostUsd = 0 } = summary?.lanes.offline ?? {};
    expect(onlineCostUsd).toBeGreaterThan(1.9 * costUsd);
    expect(onlineCostUsd).toBeLessThan(2 * costUsd);
  }, 180_000);

  it('summarizes the whole corpus through an outage of the primary model, headless', async () => {
    url = await redisUrl();

    const run = await runCli(['--json', 'demo', '--time-scale', '8', '--prefix', ownPrefix()], {
      env: { REDIS_URL: url },
      timeoutMs: 150_000,
    });
    const summary = jsonLines(run.stdout).find((l) => 'summary' in l)?.summary as DemoSummary | undefined;

    expect(run.code, run.stderr.slice(-2_000)).toBe(0);
    expect(summary).toBeDefined();
    expect(summary?.documents).toBe(217);
    expect(summary?.completed).toBe(217);
    expect(summary?.failed).toBe(0);
    expect(Object.keys(summary?.perModel ?? {}).length).toBeGreaterThan(1);
    expect(summary?.fallbacks).toBeGreaterThan(0);
    // How long it takes depends on the machine and its load: bench/demo.ts measures that.
    expect(summary?.wallSeconds).toBeGreaterThan(0);
    expect(
      jsonLines(run.stdout).some((l) => typeof l.event === 'string' && l.event.startsWith('outage injected')),
    ).toBe(true);
  }, 180_000);
});

const CORPUS = join(ROOT, 'examples', 'corpus');
const open: TmuxTerminal[] = [];

afterEach(async () => {
  for (const term of open.splice(0)) await term.close();
});

/** A corpus of the `count` shortest documents of the sample corpus: the same demo, in less time. */
async function shortestDocuments(count: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bj-corpus-'));
  dirs.push(dir);
  const files = await Promise.all(
    (await readdir(CORPUS)).map(async (name) => ({ name, size: (await stat(join(CORPUS, name))).size })),
  );
  for (const { name } of files.sort((a, b) => a.size - b.size).slice(0, count))
    await copyFile(join(CORPUS, name), join(dir, name));
  return dir;
}

/** Starts `command` in a terminal `columns` wide, closed after the test. */
async function terminal(command: string[], columns: number, env: Record<string, string> = {}) {
  const term = await TmuxTerminal.start(command, {
    columns,
    rows: 50,
    env: { LOG_LEVEL: 'warn', ...env },
  });
  open.push(term);
  return term;
}

/** The demo's table as a user reads it: from `documents` to the results command and its note. */
const TABLE_ROW =
  /^ {2}(?:documents {6}|fallbacks {6}|throttled {6}|rate now {7}|tokens {9}|cost {11}|wall time {6}|results {8}| {15}\(with REDIS_URL=| {15}\(and a config with prefix: |[a-z0-9.:-]+ +\d+$)/;

/** Checks a finished demo's screen: one bar at 100 %, the table whole below it, nothing too wide. */
function expectDemoScreen(lines: string[], columns: number, documents: number) {
  for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(columns);
  const bars = barLines(lines);
  expect(bars, lines.join('\n')).toHaveLength(1);
  expect(bars[0]).toMatch(new RegExp(`^█+ 100% \\| ${documents}/${documents} done, 0 failed`));
  const bar = lines.indexOf(bars[0] ?? '');
  const table = lines.slice(bar + 1);
  expect(table[0]).toBe('');
  expect(table[1]).toBe(`  documents      ${documents}/${documents} completed, 0 failed`);
  for (const row of table.slice(1)) expect(row, lines.join('\n')).toMatch(TABLE_ROW);
  for (const label of ['fallbacks', 'throttled', 'rate now', 'tokens', 'cost', 'wall time'])
    expect(table.some((row) => row.startsWith(`  ${label} `))).toBe(true);
  expect(table.at(-3)).toMatch(/^ {2}results {8}bedrock-jobs results demo-[0-9a-f]{8} --format csv$/);
  expect(table.at(-2)).toMatch(/^ {17}\(with REDIS_URL=.*; kept for 1 hour\)$/);
  // The demo ran under a prefix of the test's own: the hint says how to reach its results.
  expect(table.at(-1)).toMatch(/^ {17}\(and a config with prefix: "\{t-demo-[0-9a-f]+\}"\)$/);
  return { bar: bars[0] ?? '', before: lines.slice(0, bar) };
}

describe('npm run demo on a terminal', () => {
  it('shows the demo in an 80-column terminal: one bar that fits, the outage above it, the table whole below', async () => {
    url = await redisUrl();
    // The full corpus runs headless above; here its 120 shortest documents, without the one
    // split into parts, whose rounds make the demo's long tail.
    const corpus = await shortestDocuments(120);
    const term = await terminal(
      [process.execPath, BIN, 'demo', '--time-scale', '8', '--corpus', corpus, '--prefix', ownPrefix()],
      80,
      {
        REDIS_URL: url,
      },
    );

    const code = await term.exited(170_000);
    const lines = await term.screen();
    const { bar, before } = expectDemoScreen(lines, 80, 120);

    expect(code, lines.join('\n')).toBe(0);
    expect(bar.length).toBeLessThan(80);
    expect(
      // A notice longer than the terminal wraps at a space onto an indented line.
      /^outage injected: anthropic\.claude-haiku-4-5-\S+\s+answers\s+503\s+from\s+now\s+on$/m.test(
        before.join('\n'),
      ),
    ).toBe(true);
    // Everything the demo says while the bar runs is a whole line: no log line broke in.
    expect(before.filter((l) => l.startsWith('{'))).toEqual([]);
  }, 180_000);

  it('shows a smaller demo in a 120-column terminal, with the jobs per model on the bar', async () => {
    url = await redisUrl();
    const corpus = await shortestDocuments(40);
    const term = await terminal(
      [process.execPath, BIN, 'demo', '--time-scale', '8', '--corpus', corpus, '--prefix', ownPrefix()],
      120,
      { REDIS_URL: url },
    );

    const code = await term.exited(120_000);
    const lines = await term.screen();
    const { bar } = expectDemoScreen(lines, 120, 40);

    expect(code, lines.join('\n')).toBe(0);
    expect(bar).toMatch(/ \| (?:[a-z0-9-]+ \d+(?:, |$))+/);
  }, 150_000);
});
