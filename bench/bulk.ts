/**
 * Bulk summarization end to end: N documents through the real CLI (`enqueue DIR --wait`) to an
 * in-process worker and the zero-latency simulator, then `results --format csv --out` as a
 * child process whose peak RSS is sampled. The export is run for N and for N/10 documents
 * in the same run, so the memory bound shows as a ratio.
 *
 *   npx tsx bench/bulk.ts [--docs 5000] [--concurrency 32]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { DEFAULT_CHAIN, loadConfig } from '../src/config.js';
import { startWorker } from '../src/queue/worker.js';
import { deleteKeys } from '../src/redis/purge.js';
import { ProfileSchema, startSimulatorWithProfile } from '../src/simulator/index.js';

const { values } = parseArgs({
  options: { docs: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '32' } },
});
const DOCS = Number(values.docs);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = join(import.meta.dirname, '..', 'bin', 'bedrock-jobs.js');
const prefix = `{bench-bulk-${randomUUID().slice(0, 8)}}`;
const work = mkdtempSync(join(tmpdir(), 'bj-bulk-'));

const EN = [
  'The supplier delivers the goods within 30 days.',
  'Payment is due within 45 days of the invoice.',
  'Either party may end the contract with notice.',
  'The customer reported an error after login.',
  'A fix was deployed and errors dropped.',
];
const KO = [
  '공급자는 30일 이내에 물품을 납품한다.',
  '대금은 청구일로부터 45일 이내에 지급한다.',
  '고객이 로그인 후 오류를 신고했다.',
  '수정 사항이 배포된 후 오류가 줄었다.',
];

function writeDocs(dir: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const bank = i % 4 === 0 ? KO : EN;
    const text = Array.from({ length: 4 + (i % 7) }, (_, k) => bank[(i + k) % bank.length]).join(' ');
    writeFileSync(join(dir, `doc-${String(i).padStart(5, '0')}.txt`), `${text}\n`);
  }
}

/** Runs the CLI; samples the child's VmHWM (peak RSS) from /proc while it runs. */
function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; peakRssMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    let peak = 0;
    const sample = () => {
      try {
        const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        peak = Math.max(peak, kb);
      } catch {
        // the process has exited
      }
    };
    const timer = setInterval(sample, 20);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, peakRssMb: peak / 1024 });
    });
  });
}

const sim = await startSimulatorWithProfile({
  profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { '*': { rpm: 1e9, tpm: 1e12 } } }),
});
const configFile = join(work, 'config.json');
const unlimited = { rpm: 1e9, tpm: 1e12 };
const configInput = {
  prefix,
  redisUrl: REDIS_URL,
  endpoint: sim.url,
  logLevel: 'warn' as const,
  // The default chain, as its ids are sent.
  models: Object.fromEntries(DEFAULT_CHAIN.map((id) => [id, unlimited])),
  worker: {
    concurrency: Number(values.concurrency),
    shutdownTimeoutMs: 10_000,
    jobAttempts: 3,
    busyBackoffMs: 100,
  },
};
writeFileSync(configFile, JSON.stringify(configInput));
const worker = await startWorker({ config: loadConfig({ env: {}, file: configFile }) });
const env = { REDIS_URL, BEDROCK_JOBS_CONFIG: configFile };

async function run(
  n: number,
): Promise<{ seconds: number; rows: number; peakRssMb: number; completed: number }> {
  const dir = mkdtempSync(join(work, 'docs-'));
  writeDocs(dir, n);
  const batch = `bulk-${n}-${randomUUID().slice(0, 6)}`;
  const started = performance.now();
  const enqueue = await cli(['--json', 'enqueue', dir, '--batch', batch, '--wait'], env);
  const seconds = (performance.now() - started) / 1000;
  const done = enqueue.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { done?: { completed: number } })
    .find((l) => l.done)?.done;
  if (enqueue.code !== 0 || done?.completed !== n)
    throw new Error(`enqueue --wait exited ${enqueue.code} with ${done?.completed} of ${n} completed`);
  const out = join(work, `${batch}.csv`);
  const exported = await cli(['results', batch, '--format', 'csv', '--out', out], env);
  if (exported.code !== 0) throw new Error(`results exited ${exported.code}`);
  // Rows are counted by record, not by line: summaries may hold line breaks inside quotes.
  const csv = readFileSync(out, 'utf8');
  const rows = csv.split(/\r\n(?=(?:[^"]*"[^"]*")*[^"]*$)/).filter((l) => l.length > 0).length - 1;
  return { seconds, rows, peakRssMb: exported.peakRssMb, completed: done.completed };
}

try {
  const small = await run(Math.max(1, Math.floor(DOCS / 10)));
  const big = await run(DOCS);
  console.log(
    `documents ${DOCS}: completed ${big.completed}, ${big.seconds.toFixed(1)} s through enqueue --wait (${(DOCS / big.seconds).toFixed(0)} docs/s)`,
  );
  console.log(`CSV rows: ${big.rows} (expected ${DOCS})`);
  console.log(
    `export peak RSS: ${big.peakRssMb.toFixed(1)} MB for ${DOCS} results vs ${small.peakRssMb.toFixed(1)} MB for ${Math.floor(DOCS / 10)} (ratio ${(big.peakRssMb / small.peakRssMb).toFixed(2)}; flat is ~1)`,
  );
  if (big.rows !== DOCS) process.exitCode = 1;
} finally {
  await worker.close();
  await sim.close();
  const redis = new Redis(REDIS_URL);
  await deleteKeys(redis, prefix);
  await redis.quit();
  rmSync(work, { recursive: true, force: true });
}
