import { describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import type { ResultRecord } from '../../src/results/record.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

/**
 * Families without a native adapter (gpt-oss, DeepSeek, ...) can be named in any chain: the
 * worker calls them through Converse even for an `invoke` job, and each attempt says so.
 */

const GPT_OSS = 'openai.gpt-oss-120b-1:0';
const DEEPSEEK = 'deepseek.v3.2';

const ctx = useRedis();
const pipe = usePipeline();

function testConfig(): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      chains: { open: ['gpt-oss-120b', 'deepseek-v3-2'] },
      models: Object.fromEntries([GPT_OSS, DEEPSEEK].map((id) => [id, { rpm: 1e6, tpm: 1e9 }])),
      policy: {
        retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 },
        breaker: { consecutiveFailures: 50, halfOpenAfterMs: 200 },
      },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 2, busyBackoffMs: 50 },
    },
  });
}

async function start(): Promise<Producer> {
  const config = testConfig();
  const producer = pipe.track(createProducer({ redis: ctx.url, prefix: config.prefix, config }));
  const worker = await startWorker({ config });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  return producer;
}

type JobInput = Parameters<Producer['enqueueBatch']>[0][number];

async function run(producer: Producer, batchId: string, jobs: JobInput[]): Promise<ResultRecord[]> {
  const withIds = jobs.map((j, i) => ({ ...j, id: `${batchId}-${i}` }));
  await producer.enqueueBatch(withIds, { batchId });
  await producer.waitForBatch(batchId, { pollMs: 100 });
  return Promise.all(withIds.map(async (j) => (await producer.getResult(j.id))!));
}

const question: JobInput = { task: 'generate', messages: [{ role: 'user', content: 'What is a queue?' }] };

describe('a chain of Converse-only models against the simulator', () => {
  it('completes invoke and converse jobs on gpt-oss, each attempt saying an invoke job went through Converse', async () => {
    const producer = await start();

    const [invoked, conversed] = await run(producer, 'oss', [
      { ...question, chain: 'open' },
      { ...question, chain: 'open', api: 'converse' },
    ]);

    expect(invoked).toMatchObject({ status: 'completed', modelId: GPT_OSS });
    expect(invoked?.attempts).toEqual([
      { modelId: GPT_OSS, outcome: 'ok', latencyMs: expect.any(Number), api: 'converse' },
    ]);
    expect(invoked?.text?.length).toBeGreaterThan(0);
    expect(invoked?.costUsd).toBeGreaterThan(0);
    // Asked for Converse, served by Converse: nothing to point out.
    expect(conversed?.attempts).toEqual([{ modelId: GPT_OSS, outcome: 'ok', latencyMs: expect.any(Number) }]);
  });

  it('falls back from gpt-oss to DeepSeek while gpt-oss is down', async () => {
    pipe.sim.admin.addFault({ model: GPT_OSS, outage: true });
    const producer = await start();

    const results = await run(producer, 'down', [
      { ...question, models: ['gpt-oss-120b', DEEPSEEK] },
      {
        task: 'summarize',
        document: 'Queues hold jobs. Workers take them. Results go back to Redis.',
        chain: 'open',
      },
    ]);

    for (const r of results) {
      expect(r).toMatchObject({ status: 'completed', modelId: DEEPSEEK });
      expect(r.attempts.map((a) => [a.modelId, a.api])).toEqual([
        [GPT_OSS, 'converse'],
        [DEEPSEEK, 'converse'],
      ]);
      expect(r.attempts[0]?.outcome).toBe('unavailable');
    }
    expect(pipe.sim.admin.stats().models[DEEPSEEK]?.ok).toBe(2);
  });
});
