import { randomUUID } from 'node:crypto';
import {
  BedrockClient,
  ListModelInvocationJobsCommand,
  type ModelInvocationJobSummary,
} from '@aws-sdk/client-bedrock';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ManualClock } from '../../src/clock.js';
import { type ConfigInput, loadConfig } from '../../src/config.js';
import { startOfflineCoordinator } from '../../src/offline/coordinator.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { ResultStore } from '../../src/results/store.js';
import { ProfileSchema, startSimulatorWithProfile } from '../../src/simulator/index.js';
import type { PipelineContext } from './pipeline.js';
import type { RedisTestContext } from './redis.js';

/** The role ARN the tests give the offline lane; the simulator checks its form only. */
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/bedrock-batch';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Offline settings for a test against the simulator: quick looks, a bucket of the test's own. */
export function offlineSettings(
  bucket: string,
  extra: NonNullable<ConfigInput['offline']> = {},
): ConfigInput['offline'] {
  return { bucket, roleArn: ROLE_ARN, pollIntervalMs: 20, maxPollIntervalMs: 200, ...extra };
}

/** Creates a bucket in the simulator's S3 with the real client, as an operator would beforehand. */
export async function createBucket(endpoint: string, bucket: string): Promise<void> {
  const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: CREDENTIALS });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
}

/** Every model invocation job the simulator holds, through the real Bedrock client. */
export async function listInvocationJobs(endpoint: string): Promise<ModelInvocationJobSummary[]> {
  const bedrock = new BedrockClient({ region: 'us-east-1', endpoint, credentials: CREDENTIALS });
  const out: ModelInvocationJobSummary[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await bedrock.send(new ListModelInvocationJobsCommand({ maxResults: 100, nextToken }));
      out.push(...(page.invocationJobSummaries ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  } finally {
    bedrock.destroy();
  }
  return out;
}

/** Something a test starts and closes after it. */
type Closable = { close(): Promise<void> };

/**
 * A worker, an offline coordinator and a producer on the test's Redis prefix against the
 * simulator at `endpoint`, with `bucket` created there; each is handed to `track` to be closed
 * after the test, worker before producer.
 */
async function startLaneAt(
  ctx: RedisTestContext,
  endpoint: string,
  bucket: string,
  overrides: ConfigInput,
  track: <T extends Closable>(thing: T) => T,
) {
  await createBucket(endpoint, bucket);
  const config = loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint,
      ...overrides,
      offline: offlineSettings(bucket, overrides.offline),
    },
  });
  const producer = track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
  const worker = await startWorker({ config, fleetRateLimits: false });
  track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  const coordinator = track(
    await startOfflineCoordinator({ config, observer: worker.metrics, unusable: worker.unusableModels }),
  );
  const store = new ResultStore(ctx.redis, { prefix: ctx.prefix, ttlSeconds: 3600 });
  return { config, producer, worker, coordinator, store };
}

/**
 * A worker, an offline coordinator, a producer and a result store on the test's Redis prefix,
 * against the file's simulator, with a bucket of their own; closed after the test.
 */
export async function startOfflineLane(
  ctx: RedisTestContext,
  pipe: PipelineContext,
  overrides: ConfigInput = {},
) {
  const bucket = `bj-${randomUUID().slice(0, 8)}`;
  const worker = { concurrency: 16, shutdownTimeoutMs: 5_000, busyBackoffMs: 50 };
  const lane = await startLaneAt(ctx, pipe.sim.url, bucket, { worker, ...overrides }, (t) => pipe.track(t));
  return { ...lane, bucket };
}

/**
 * A lane whose simulator of its own runs on a {@link ManualClock} that never moves by itself:
 * invocation jobs change status only when the test drives the clock. What it starts is pushed
 * onto `open`, for the test file to close after each test.
 */
export async function startOfflineLaneOnClock(
  ctx: RedisTestContext,
  bucket: string,
  open: { close(): Promise<unknown> | unknown }[],
) {
  const clock = new ManualClock(0);
  const sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { '*': { rpm: 1e9, tpm: 1e12 } } }),
    clock,
  });
  open.push(sim);
  const overrides = { worker: { shutdownTimeoutMs: 5_000 } };
  const lane = await startLaneAt(ctx, sim.url, bucket, overrides, (t) => {
    open.push(t);
    return t;
  });
  return { clock, sim, ...lane };
}
