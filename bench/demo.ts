/**
 * Wall time of `bedrock-jobs demo` (simulator, worker and the 217-document corpus in one
 * process) over several runs, against a budget: how long the demo takes depends on the
 * machine and its load, so it is measured here rather than asserted in the test suite.
 *
 *   npx tsx bench/demo.ts [--runs 3] [--time-scale 8] [--budget-seconds 120]
 *
 * Exits 1 when a run fails or takes longer than the budget.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'time-scale': { type: 'string', default: '8' },
    'budget-seconds': { type: 'string', default: '120' },
  },
});
const RUNS = Number(values.runs);
const BUDGET_SECONDS = Number(values['budget-seconds']);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = join(import.meta.dirname, '..', 'bin', 'bedrock-jobs.js');

interface Summary {
  batchId: string;
  completed: number;
  documents: number;
  wallSeconds: number;
}

function demo(): Promise<{ code: number | null; summary?: Summary }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--json', 'demo', '--time-scale', values['time-scale']], {
      env: { ...process.env, REDIS_URL, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{"summary"'));
      resolve({ code, ...(line ? { summary: (JSON.parse(line) as { summary: Summary }).summary } : {}) });
    });
  });
}

/** The demo keeps its results for an hour under the default prefix; a bench run's go now. */
async function cleanup(redis: Redis, batchId: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{bj}:*${batchId}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

const redis = new Redis(REDIS_URL);
const seconds: number[] = [];
let failed = false;
for (let run = 1; run <= RUNS; run++) {
  const { code, summary } = await demo();
  if (summary) await cleanup(redis, summary.batchId);
  if (code !== 0 || !summary || summary.completed !== summary.documents) {
    console.log(`run ${run}: failed (exit ${code}, ${summary?.completed ?? 0} documents completed)`);
    failed = true;
    continue;
  }
  seconds.push(summary.wallSeconds);
  console.log(`run ${run}: ${summary.completed} documents in ${summary.wallSeconds} s`);
}
await redis.quit();

const sorted = [...seconds].sort((a, b) => a - b);
if (sorted.length > 0) {
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(
    `demo wall time: min ${sorted[0]} s, median ${median} s, max ${sorted.at(-1)} s (budget ${BUDGET_SECONDS} s)`,
  );
}
const over = seconds.filter((s) => s > BUDGET_SECONDS).length;
if (over > 0) console.log(`${over} of ${RUNS} runs over the budget`);
process.exitCode = failed || over > 0 ? 1 : 0;
