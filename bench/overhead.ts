/**
 * What the resilience pipeline costs: the full worker (chain, breaker, retries, bulkhead,
 * fleet-wide rate limiter, atomic result writes) against a naive BullMQ worker that calls
 * the same SDK with no resilience, both against the zero-latency simulator, same Redis,
 * same concurrency, measured in the same run.
 *
 *   npx tsx bench/overhead.ts [--jobs 3000] [--concurrency 32] [--rounds 2]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { createProducer } from '../src/queue/producer.js';
import { startWorker } from '../src/queue/worker.js';
import { deleteKeys } from '../src/redis/purge.js';
import { ProfileSchema, startSimulatorWithProfile } from '../src/simulator/index.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
  },
});
const JOBS = Number(values.jobs);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const UNLIMITED = { rpm: 1e9, tpm: 1e12 };

const sim = await startSimulatorWithProfile({
  profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { [MODEL]: UNLIMITED } }),
});
const admin = new Redis(REDIS_URL);

async function cleanup(prefix: string): Promise<void> {
  await deleteKeys(admin, prefix);
}

const question = (i: number) => `Question ${i}: summarize what a job queue does in one sentence.`;

/** No breaker, no retry, no limiter, no fallback: take a job, call the model, store the text. */
async function naive(): Promise<number> {
  const prefix = `{bench-naive-${randomUUID()}}`;
  const queue = new Queue('jobs', { connection: { url: REDIS_URL }, prefix });
  await queue.addBulk(
    Array.from({ length: JOBS }, (_, i) => ({
      name: 'job',
      data: { id: `n${i}`, text: question(i) },
      opts: { jobId: `n${i}`, removeOnComplete: true },
    })),
  );
  const sdk = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: sim.url,
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const redis = new Redis(REDIS_URL);
  let done = 0;
  const start = performance.now();
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker<{ id: string; text: string }>(
      'jobs',
      async (job) => {
        const body = JSON.stringify({
          anthropic_version: 'bedrock-2023-05-31',
          max_tokens: 512,
          messages: [{ role: 'user', content: job.data.text }],
        });
        const out = await sdk.send(
          new InvokeModelCommand({ modelId: MODEL, body, contentType: 'application/json' }),
        );
        const parsed = JSON.parse(new TextDecoder().decode(out.body)) as { content: { text: string }[] };
        await redis.set(
          `${prefix}:result:${job.data.id}`,
          JSON.stringify({ text: parsed.content[0]?.text }),
          'EX',
          3600,
        );
      },
      { connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix, concurrency: CONCURRENCY },
    );
    worker.on('completed', () => {
      if (++done === JOBS) void worker.close().then(() => resolve());
    });
  });
  await finished;
  const rate = JOBS / ((performance.now() - start) / 1000);
  sdk.destroy();
  await redis.quit();
  await queue.close();
  await cleanup(prefix);
  return rate;
}

async function full(): Promise<number> {
  const prefix = `{bench-full-${randomUUID()}}`;
  const config = loadConfig({
    env: {},
    overrides: {
      redisUrl: REDIS_URL,
      prefix,
      endpoint: sim.url,
      chains: { default: [MODEL, 'titan-express'] },
      models: { [MODEL]: UNLIMITED },
      worker: { concurrency: CONCURRENCY, shutdownTimeoutMs: 10_000, jobAttempts: 3, busyBackoffMs: 100 },
    },
  });
  const producer = createProducer({ redis: REDIS_URL, prefix, config });
  const batchId = `b-${randomUUID()}`;
  await producer.enqueueBatch(
    Array.from({ length: JOBS }, (_, i) => ({
      id: `f${i}`,
      task: 'generate' as const,
      messages: [{ role: 'user' as const, content: question(i) }],
    })),
    { batchId },
  );
  const start = performance.now();
  const worker = await startWorker({ config });
  const counters = await producer.waitForBatch(batchId, { pollMs: 500 });
  const rate = JOBS / ((performance.now() - start) / 1000);
  if (counters.completed !== JOBS) throw new Error(`full worker completed ${counters.completed}/${JOBS}`);
  await worker.close();
  await producer.close();
  await cleanup(prefix);
  return rate;
}

const naiveRates: number[] = [];
const fullRates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  naiveRates.push(await naive());
  fullRates.push(await full());
}
const best = (xs: number[]) => Math.max(...xs);
const f = (x: number) => x.toFixed(0).padStart(7);
console.log(`jobs ${JOBS}, concurrency ${CONCURRENCY}, rounds ${ROUNDS} (best of rounds)`);
console.log(
  `naive BullMQ worker (no resilience): ${f(best(naiveRates))} jobs/s   rounds: ${naiveRates.map((r) => r.toFixed(0)).join(', ')}`,
);
console.log(
  `bedrock-jobs worker (full pipeline): ${f(best(fullRates))} jobs/s   rounds: ${fullRates.map((r) => r.toFixed(0)).join(', ')}`,
);
console.log(`ratio full / naive: ${(best(fullRates) / best(naiveRates)).toFixed(2)} (target >= 0.85)`);
await admin.quit();
await sim.close();
