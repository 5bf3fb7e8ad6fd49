import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { estimateTokens, isMostlyHangul } from '../../src/models/tokens.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { type RunningWorker, startWorker } from '../../src/queue/worker.js';
import type { ResultRecord } from '../../src/results/record.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const UNLIMITED = { rpm: 1e6, tpm: 1e9 };

/** About 200k Claude tokens of Korean contract text: more than Claude 3 Haiku's 200k window once the prompt and output are counted. */
const huge = readFileSync(
  join(import.meta.dirname, '..', '..', 'examples', 'corpus', '217-ko-contract-huge.txt'),
  'utf8',
);
const KOREAN = huge.slice(0, Math.floor(huge.length * (205_000 / estimateTokens(huge, 'anthropic'))));

const ctx = useRedis();
let sim: ProfileSimulator;
let running: { producer?: Producer; worker?: RunningWorker } = {};

beforeAll(async () => {
  sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({
      zeroLatency: true,
      jitter: 0,
      models: { [CLAUDE]: UNLIMITED, [TITAN]: UNLIMITED },
    }),
  });
});
afterAll(async () => {
  await sim.close();
});
afterEach(async () => {
  await running.worker?.close({ deadlineMs: 5_000 });
  await running.producer?.close();
  running = {};
  sim.admin.reset();
});

function testConfig(chain: string[], consecutiveFailures = 3, halfOpenAfterMs = 60_000): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: sim.url,
      chains: { default: chain },
      models: { [CLAUDE]: UNLIMITED, [TITAN]: UNLIMITED },
      policy: {
        retry: { maxAttempts: 2, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 },
        breaker: { consecutiveFailures, halfOpenAfterMs },
      },
      worker: { concurrency: 8, shutdownTimeoutMs: 5_000, jobAttempts: 2, busyBackoffMs: 50 },
    },
  });
}

async function summarizeOne(config: Config, id: string): Promise<ResultRecord> {
  const producer = createProducer({ redis: ctx.url, prefix: config.prefix, config });
  const worker = await startWorker({ config });
  running = { producer, worker };
  await producer.enqueueBatch([{ id, task: 'summarize', document: KOREAN }], { batchId: `b-${id}` });
  await producer.waitForBatch(`b-${id}`, { pollMs: 200 });
  return (await producer.getResult(id))!;
}

async function leftovers(config: Config): Promise<number> {
  const queue = new Queue('jobs', { connection: { url: ctx.url }, prefix: config.prefix });
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');

  await queue.close();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('map-reduce summaries of documents longer than the window', () => {
  it('splits a 200k-token Korean document for Claude and merges a Korean summary', async () => {
    const config = testConfig(['claude-3-haiku', 'titan-express']);

    const r = await summarizeOne(config, 'ko-claude');

    expect(estimateTokens(KOREAN, 'anthropic')).toBeGreaterThan(200_000);
    expect(r.status).toBe('completed');
    expect(r.modelId).toBe(CLAUDE);
    expect(isMostlyHangul(r.text ?? '')).toBe(true);
    expect(r.usage.inputTokens).toBeGreaterThan(200_000);
    expect(sim.admin.stats().models[CLAUDE]?.ok).toBeGreaterThanOrEqual(3);
    expect(await leftovers(config)).toBe(0);
  });

  it('with Claude down, re-chunks the same document for Titan Express and still completes in Korean', async () => {
    const config = testConfig(['claude-3-haiku', 'titan-express']);
    sim.admin.addFault({ model: CLAUDE, outage: true });

    const r = await summarizeOne(config, 'ko-titan');

    expect(r.status).toBe('completed');
    expect(r.modelId).toBe(TITAN);
    expect(isMostlyHangul(r.text ?? '')).toBe(true);
    expect(sim.admin.stats().models[TITAN]?.ok).toBeGreaterThan(25);
    expect(r.attempts.some((a) => a.modelId === TITAN && a.outcome === 'ok')).toBe(true);
    expect(await leftovers(config)).toBe(0);
  });

  it('fails the document, naming the part, when a part fails after every fallback, and leaves nothing behind', async () => {
    // Both parts fail their two calls each: a breaker that opened on the third failure would
    // refuse a part's last try, and that part would wait for the probe instead of failing.
    const config = testConfig(['claude-3-haiku'], 5);
    sim.admin.addFault({ model: CLAUDE, outage: true });

    const r = await summarizeOne(config, 'ko-fail');

    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/part .*ko-fail\.r1\.p\d+ failed/);
    expect(await running.producer?.getBatch('b-ko-fail')).toMatchObject({
      total: 1,
      completed: 0,
      failed: 1,
    });
    // A sibling part still running when the document failed is dropped when next picked up.
    await expect.poll(() => leftovers(config), { timeout: 20_000 }).toBe(0);
  });

  it('summarizes a failed document in parts again when its batch is retried, from a fresh split', async () => {
    // The breaker the outage opened lets a probe through soon after: the retry waits for no minute.
    const config = testConfig(['claude-3-haiku'], 5, 200);
    const outage = sim.admin.addFault({ model: CLAUDE, outage: true });
    const failed = await summarizeOne(config, 'ko-retry');
    await expect.poll(() => leftovers(config), { timeout: 20_000 }).toBe(0);
    sim.admin.removeFault(outage);
    const before = sim.admin.stats().models[CLAUDE]?.ok ?? 0;

    const retried = await running.producer!.retryFailed('b-ko-retry');
    const counters = await running.producer!.waitForBatch('b-ko-retry', { pollMs: 200 });
    const r = (await running.producer!.getResult('ko-retry'))!;

    expect(failed.status).toBe('failed');
    expect(retried).toMatchObject({ retried: 1 });
    expect(counters).toMatchObject({ total: 1, completed: 1, failed: 0 });
    expect(r).toMatchObject({ status: 'completed', modelId: CLAUDE, retry: 1 });
    expect(isMostlyHangul(r.text ?? '')).toBe(true);
    // Its parts ran again, then the merge: at least three answered calls after the retry.
    expect((sim.admin.stats().models[CLAUDE]?.ok ?? 0) - before).toBeGreaterThanOrEqual(3);
    expect(r.usage.inputTokens).toBeGreaterThan(200_000);
    expect(await leftovers(config)).toBe(0);
    expect(await ctx.redis.exists(`${config.prefix}:split:ko-retry`)).toBe(0);
  });
});
