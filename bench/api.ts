/**
 * An NDJSON batch of N jobs streamed to a real API process (`bedrock-jobs api`), against a
 * direct BullMQ `addBulk` of the same jobs, same Redis, same run. Prints the API's enqueue
 * rate as a ratio of the direct one, and the API process's peak RSS for N jobs and for N/10
 * (a second process), so the memory bound shows as a ratio near 1. Linux (reads /proc).
 *
 *   npm run bench:api [-- --jobs 100000 --chunk 1000]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { deleteKeys } from '../src/redis/purge.js';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '100000' }, chunk: { type: 'string', default: '1000' } },
});
const JOBS = Number(values.jobs);
const CHUNK = Number(values.chunk);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIN = join(import.meta.dirname, '..', 'bin', 'bedrock-jobs.js');
const TOKEN = randomUUID();
const run = randomUUID().slice(0, 8);
const work = mkdtempSync(join(tmpdir(), 'bj-bench-api-'));
const admin = new Redis(REDIS_URL);
const prefixes: string[] = [];

function job(i: number, tag: string) {
  return {
    id: `${tag}-${i}`,
    task: 'generate' as const,
    messages: [
      { role: 'user' as const, content: `Question ${i}: what does a job queue do, in one sentence?` },
    ],
  };
}

/** The NDJSON body, made as it is sent: a few hundred lines per chunk. */
async function* body(n: number, tag: string): AsyncGenerator<string> {
  for (let i = 0; i < n; i += 500) {
    const lines: string[] = [];
    for (let k = i; k < Math.min(n, i + 500); k++) lines.push(JSON.stringify(job(k, tag)));
    yield `${lines.join('\n')}\n`;
  }
}

function procKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
}

/** A port nothing listens on now (the CLI takes no port 0). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts `bedrock-jobs api` on a free port under its own prefix; resolves with its base URL. */
async function startApi(prefix: string): Promise<{ child: ChildProcess; url: string }> {
  const config = join(work, `${prefix.replace(/\W/g, '')}.json`);
  writeFileSync(config, JSON.stringify({ prefix, api: { ndjsonChunkJobs: CHUNK } }));
  const child = spawn(
    process.execPath,
    [BIN, 'api', '--port', String(await freePort()), '--host', '127.0.0.1'],
    {
      env: { ...process.env, REDIS_URL, API_TOKEN: TOKEN, BEDROCK_JOBS_CONFIG: config, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let seen = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      seen += d.toString();
      const address = /"address":"(http:\/\/[^"]+)"/.exec(seen)?.[1];
      if (address) resolve(address);
    });
    child.on('exit', (code) => reject(new Error(`api exited with ${code}: ${seen}`)));
  });
  return { child, url };
}

async function stopApi(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Streams N jobs as NDJSON to a fresh API process: seconds taken, peak and idle RSS (MB). */
async function viaApi(n: number): Promise<{ seconds: number; peakMb: number; idleMb: number }> {
  const prefix = `{bench-api-${run}-${n}}`;
  prefixes.push(prefix);
  const { child, url } = await startApi(prefix);
  try {
    const pid = child.pid ?? 0;
    const idleMb = procKb(pid, 'VmRSS') / 1024;
    const start = performance.now();
    const req = request(`${url}/v1/batches?batchId=bench`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
    });
    const answer = new Promise<string>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () =>
          res.statusCode === 202 ? resolve(text) : reject(new Error(`${res.statusCode} ${text}`)),
        );
      });
      req.on('error', reject);
    });
    await pipeline(Readable.from(body(n, 'a')), req);
    const result = JSON.parse(await answer) as { enqueued: number };
    const seconds = (performance.now() - start) / 1000;
    if (result.enqueued !== n) throw new Error(`the API enqueued ${result.enqueued} of ${n}`);
    return { seconds, peakMb: procKb(pid, 'VmHWM') / 1024, idleMb };
  } finally {
    await stopApi(child);
  }
}

/** The same jobs straight into BullMQ with `addBulk`, `CHUNK` at a time: seconds taken. */
async function direct(n: number): Promise<number> {
  const prefix = `{bench-bulk-${run}}`;
  prefixes.push(prefix);
  const queue = new Queue('jobs', { connection: { url: REDIS_URL }, prefix });
  const start = performance.now();
  const enqueuedAt = new Date().toISOString();
  for (let i = 0; i < n; i += CHUNK) {
    const jobs = [];
    for (let k = i; k < Math.min(n, i + CHUNK); k++) {
      const data = { ...job(k, 'd'), api: 'invoke', batchId: 'bench', enqueuedAt };
      jobs.push({ name: data.task, data, opts: { jobId: data.id } });
    }
    await queue.addBulk(jobs);
  }
  const seconds = (performance.now() - start) / 1000;
  await queue.close();
  return seconds;
}

try {
  const directSeconds = await direct(JOBS);
  const big = await viaApi(JOBS);
  const small = await viaApi(Math.floor(JOBS / 10));
  const rate = (s: number) => (JOBS / s).toFixed(0).padStart(7);
  console.log(`jobs ${JOBS}, ndjsonChunkJobs ${CHUNK}, one API process per size`);
  console.log(`direct BullMQ addBulk:   ${rate(directSeconds)} jobs/s  (${directSeconds.toFixed(1)} s)`);
  console.log(`API, NDJSON streamed:    ${rate(big.seconds)} jobs/s  (${big.seconds.toFixed(1)} s)`);
  console.log(`ratio API / direct:      ${(directSeconds / big.seconds).toFixed(2)}`);
  console.log(
    `API peak RSS: ${big.peakMb.toFixed(0)} MB for ${JOBS} jobs, ${small.peakMb.toFixed(0)} MB for ${Math.floor(JOBS / 10)} (ratio ${(big.peakMb / small.peakMb).toFixed(2)}; idle ${big.idleMb.toFixed(0)} MB)`,
  );
} finally {
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  await admin.quit();
  rmSync(work, { recursive: true, force: true });
}
