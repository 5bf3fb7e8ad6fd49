import { BedrockClient, CreateInferenceProfileCommand } from '@aws-sdk/client-bedrock';
import { describe, expect, it } from 'vitest';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { readPreflight } from '../../src/queue/preflight-record.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { readFleetState } from '../../src/resilience/fleet-view.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const US_HAIKU = `us.${HAIKU}`;
const TITAN = 'amazon.titan-text-express-v1';

const ctx = useRedis();
const pipe = usePipeline();

function testConfig(overrides: ConfigInput): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      policy: {
        retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 },
        breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
      },
      worker: { concurrency: 1, shutdownTimeoutMs: 5_000, busyBackoffMs: 50 },
      ...overrides,
    },
  });
}

async function run(config: Config, count: number, batchId: string) {
  const producer = pipe.track(createProducer({ redis: ctx.url, prefix: config.prefix, config }));
  const worker = await startWorker({ config });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  const ids = Array.from({ length: count }, (_, i) => `${batchId}-${i}`);
  await producer.enqueueBatch(
    ids.map((id) => ({
      id,
      task: 'generate' as const,
      messages: [{ role: 'user' as const, content: 'Hello' }],
    })),
    { batchId },
  );
  await producer.waitForBatch(batchId, { pollMs: 100 });
  return { worker, results: await Promise.all(ids.map((id) => producer.getResult(id))) };
}

/** An application inference profile made on the simulator through the real control-plane SDK. */
async function makeApplicationProfile(name: string, copyFrom: string): Promise<string> {
  const client = new BedrockClient({
    region: 'us-east-1',
    endpoint: pipe.sim.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    const made = await client.send(
      new CreateInferenceProfileCommand({ inferenceProfileName: name, modelSource: { copyFrom } }),
    );
    return made.inferenceProfileArn!;
  } finally {
    client.destroy();
  }
}

describe('inference profiles in a chain', () => {
  it('keep their own quota and breaker, apart from the base model, by the id as sent', async () => {
    pipe.sim.admin.addFault({ model: US_HAIKU, outage: true });
    const config = testConfig({
      chains: { default: [US_HAIKU, HAIKU] },
      models: { [US_HAIKU]: { rpm: 600, tpm: 900_000 } },
    });

    const { worker, results } = await run(config, 4, 'geo');
    const fleet = await readFleetState(ctx.redis, config, ModelCatalog.of(config));

    expect(results.every((r) => r?.modelId === HAIKU)).toBe(true);
    expect(results[0]?.attempts.map((a) => [a.modelId, a.outcome])).toEqual([
      [US_HAIKU, 'unavailable'],
      [HAIKU, 'ok'],
    ]);
    expect(worker.breakers.get(US_HAIKU).view().state).toBe('open');
    expect(worker.breakers.get(HAIKU).view().state).toBe('closed');
    expect(fleet.find((f) => f.modelId === US_HAIKU)?.rate?.quota).toMatchObject({
      rpm: 600,
      configured: true,
    });
    expect(fleet.find((f) => f.modelId === HAIKU)?.rate?.quota).toMatchObject({
      rpm: 1_000,
      configured: false,
    });
    expect(fleet.find((f) => f.modelId === US_HAIKU)?.breaker.state).toBe('open');
    expect(fleet.find((f) => f.modelId === HAIKU)?.breaker.state).toBe('closed');
  });

  it('may be application profiles, called by ARN, whose routes the preflight shows', async () => {
    const arn = await makeApplicationProfile(
      `team-${ctx.prefix.slice(3, 15)}`,
      `arn:aws:bedrock:us-east-1:111122223333:inference-profile/${US_HAIKU}`,
    );
    const config = testConfig({
      chains: { default: [arn, TITAN] },
      inferenceProfiles: { [arn]: 'claude-3-haiku' },
    });

    const { results } = await run(config, 2, 'app');
    const record = await readPreflight(ctx.redis, keysFor(ctx.prefix));

    expect(results.map((r) => r?.modelId)).toEqual([arn, arn]);
    expect(results[0]?.costUsd).toBeGreaterThan(0);
    expect(record?.models.find((m) => m.id === arn)).toMatchObject({
      status: 'usable',
      baseId: HAIKU,
      profile: { type: 'APPLICATION', regions: ['us-east-1', 'us-east-2', 'us-west-2'], models: [HAIKU] },
    });
  });

  it('skips an application profile the config maps to another model than it routes to', async () => {
    const arn = await makeApplicationProfile(
      `wrong-${ctx.prefix.slice(3, 15)}`,
      `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}`,
    );
    const config = testConfig({
      chains: { default: [arn, TITAN] },
      inferenceProfiles: { [arn]: 'nova-lite' },
    });

    const { results } = await run(config, 1, 'mismatch');
    const record = await readPreflight(ctx.redis, keysFor(ctx.prefix));

    expect(results[0]?.modelId).toBe(TITAN);
    expect(results[0]?.attempts.map((a) => a.modelId)).toEqual([TITAN]);
    expect(record?.models.find((m) => m.id === arn)).toMatchObject({
      status: 'unusable',
      reason: expect.stringMatching(/routes to anthropic\.claude-3-haiku.*not to amazon\.nova-lite/),
    });
  });
});
