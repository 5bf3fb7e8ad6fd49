import { describe, expect, it } from 'vitest';
import { BedrockModelClient, createBedrockRuntime } from '../../src/bedrock/client.js';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import type { JobInput } from '../../src/queue/jobs.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import type { ResultRecord } from '../../src/results/record.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA3 = 'meta.llama3-70b-instruct-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const NOVA_MICRO = 'amazon.nova-micro-v1:0';
const NOVA_LITE = 'amazon.nova-lite-v1:0';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e6, tpm: 1e9 } } });

function testConfig(chain: string[], overrides: ConfigInput = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      chains: { default: chain },
      policy: { retry: { maxAttempts: 2, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 } },
      worker: { concurrency: 8, shutdownTimeoutMs: 5_000, jobAttempts: 3, busyBackoffMs: 50 },
      ...overrides,
    },
  });
}

async function runJobs(
  config: Config,
  jobs: JobInput[],
  client?: BedrockModelClient,
): Promise<ResultRecord[]> {
  const producer = pipe.track(createProducer({ redis: ctx.url, prefix: config.prefix, config }));
  const worker = await startWorker({ config, fleetRateLimits: false, ...(client ? { client } : {}) });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  const { batchId } = await producer.enqueueBatch(jobs);
  await producer.waitForBatch(batchId, { pollMs: 200 });
  return Promise.all(jobs.map(async (j) => (await producer.getResult(j.id!))!));
}

const ask = (id: string, content: string, extra: Partial<JobInput> = {}): JobInput => ({
  id,
  task: 'generate',
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('what each error kind does to a job', () => {
  it('moves a prompt too long for Llama 3 (8K) on to Claude (200K)', async () => {
    const long = 'The supplier shall deliver the goods within thirty days of each order. '.repeat(2_000);

    const [r] = await runJobs(testConfig(['llama3-70b', 'claude-3-haiku']), [ask('long-1', long)]);

    expect(r?.status).toBe('completed');
    expect(r?.modelId).toBe(CLAUDE);
    expect(r?.attempts[0]).toMatchObject({ modelId: LLAMA3, outcome: 'context_overflow', httpStatus: 400 });
    expect(pipe.sim.admin.stats().models[LLAMA3]?.calls).toBe(1);
  });

  it('moves a content-filtered answer on to the next model', async () => {
    pipe.sim.admin.addFault({ model: CLAUDE, contentFilter: { pattern: 'forbidden-topic' } });

    const [filtered, plain] = await runJobs(testConfig(['claude-3-haiku', 'titan-express']), [
      ask('cf-1', 'Tell me about the forbidden-topic.'),
      ask('cf-2', 'Tell me about queues.'),
    ]);

    expect(filtered?.modelId).toBe(TITAN);
    expect(filtered?.attempts.map((a) => a.outcome)).toEqual(['content_filtered', 'ok']);
    expect(plain?.modelId).toBe(CLAUDE);
  });

  it('moves on from a model that is not enabled', async () => {
    pipe.sim.admin.setModel(CLAUDE, { enabled: false });
    // Without the preflight, which would skip the model before any call (worker-preflight.test.ts).
    const config = testConfig(['claude-3-haiku', 'titan-express'], {
      worker: {
        concurrency: 8,
        shutdownTimeoutMs: 5_000,
        jobAttempts: 3,
        busyBackoffMs: 50,
        preflight: false,
      },
    });

    const [r] = await runJobs(config, [ask('ad-1', 'Hello')]);

    expect(r?.modelId).toBe(TITAN);
    expect(r?.attempts[0]).toMatchObject({ modelId: CLAUDE, outcome: 'access_denied', httpStatus: 403 });
  });

  it('moves on from a model whose HTTP/2 connection is dropped, as unavailable and without waiting out the call timeout', async () => {
    pipe.sim.admin.addFault({ model: NOVA_MICRO, reset: {} });
    const sdk = createBedrockRuntime({
      region: 'us-east-1',
      endpoint: pipe.sim.url,
      env: {},
      httpVersion: 'h2',
    });
    const h2 = new BedrockModelClient(sdk);
    pipe.track({ close: async () => h2.close() });
    // Ten minutes: far longer than the test may run, so only a failure seen at once moves the job on.
    const timeoutMs = 600_000;
    const config = testConfig(['nova-micro', 'nova-lite'], {
      policy: { timeoutMs, retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 } },
    });

    const [r] = await runJobs(config, [ask('h2-reset-1', 'Hello')], h2);

    expect(r?.status).toBe('completed');
    expect(r?.modelId).toBe(NOVA_LITE);
    expect(r?.attempts.map((a) => [a.modelId, a.outcome])).toEqual([
      [NOVA_MICRO, 'unavailable'],
      [NOVA_LITE, 'ok'],
    ]);
    expect(r?.attempts[0]?.latencyMs).toBeLessThan(timeoutMs);
    expect(pipe.sim.admin.stats().total.faultsByKind).toEqual({ reset: 1 });
  });

  it('fails a job Bedrock calls invalid at once, with one call and no retries', async () => {
    const [r] = await runJobs(testConfig(['claude-3-haiku', 'titan-express']), [
      ask('inv-1', 'Hello', { native: { anthropic: { top_k: 9_999 } } }),
    ]);

    expect(r?.status).toBe('failed');
    expect(r?.error).toMatch(/top_k/);
    expect(r?.attempts).toHaveLength(1);
    expect(pipe.sim.admin.stats().total.calls).toBe(1);
  });
});
