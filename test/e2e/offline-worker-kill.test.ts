import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BedrockClient, GetModelInvocationJobCommand } from '@aws-sdk/client-bedrock';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { offlineView } from '../../src/offline/view.js';
import { createProducer } from '../../src/queue/producer.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { createBucket, offlineSettings } from '../helpers/offline.js';
import { useRedis } from '../helpers/redis.js';
import { BIN, ROOT } from './helpers.js';

const ctx = useRedis();
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const ENDED = new Set(['Completed', 'PartiallyCompleted', 'Failed', 'Stopped', 'Expired']);

let sim: ProfileSimulator | undefined;
let dir: string | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  sim = undefined;
  dir = undefined;
});

/** `bedrock-jobs worker` as a real process with the test's config file. */
function startWorkerProcess(configFile: string): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'worker', '--no-preflight'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'warn',
      BEDROCK_JOBS_CONFIG: configFile,
    },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

describe('a worker killed while an invocation job runs', () => {
  it('is restarted and finishes the batch from the same invocation job, submitting nothing twice', async () => {
    // The simulator's clock is the test's: the invocation job moves only when the test steps it.
    const clock = new ManualClock(0);
    sim = await startSimulatorWithProfile({
      profile: ProfileSchema.parse({
        zeroLatency: true,
        jitter: 0,
        models: { '*': { rpm: 1e9, tpm: 1e12 } },
      }),
      clock,
    });
    const bucket = 'bj-kill';
    await createBucket(sim.url, bucket);
    const overrides = {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: sim.url,
      logLevel: 'warn' as const,
      // A crashed worker's coordinator job is taken over within about 1.5 s.
      worker: { lockDurationMs: 1_000, stalledIntervalMs: 500, shutdownTimeoutMs: 2_000 },
      offline: offlineSettings(bucket),
    };
    dir = mkdtempSync(join(tmpdir(), 'bj-offline-kill-'));
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(overrides));
    const config = loadConfig({ env: {}, overrides });
    const keys = keysFor(ctx.prefix);
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config });
    const bedrock = new BedrockClient({
      region: 'us-east-1',
      endpoint: sim.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    try {
      const jobs = Array.from({ length: 200 }, (_, i) => ({
        id: `doc-${i}`,
        task: 'summarize' as const,
        document: `Contract ${i}. The buyer pays ${100 + i} EUR within 30 days of delivery.`,
        models: [HAIKU],
      }));
      await producer.enqueueBatch(jobs, { batchId: 'nightly', lane: 'offline' });

      const first = startWorkerProcess(configFile);
      const jobArn = async () =>
        (await offlineView(ctx.redis, keys, 'nightly'))?.invocationJobs[0]?.jobArn ?? undefined;
      await expect.poll(jobArn, { timeout: 60_000, interval: 50 }).toBeDefined();
      const arn = (await jobArn())!;
      // Step the job into InProgress, and let the first worker see it there.
      const status = async () =>
        (await bedrock.send(new GetModelInvocationJobCommand({ jobIdentifier: arn }))).status;
      while ((await status()) !== 'InProgress') {
        if (clock.pending === 0) await clock.sleeping(1);
        clock.step();
      }
      await expect
        .poll(async () => (await offlineView(ctx.redis, keys, 'nightly'))?.invocationJobs[0]?.status, {
          timeout: 30_000,
          interval: 50,
        })
        .toBe('InProgress');

      first.kill('SIGKILL');
      const [, signal] = (await once(first, 'exit')) as [number | null, NodeJS.Signals | null];
      // The job runs on while no worker is up, and ends.
      while (!ENDED.has((await status()) ?? '')) {
        if (clock.pending === 0) await clock.sleeping(1);
        clock.step();
      }
      startWorkerProcess(configFile);
      const counters = await producer.waitForBatch('nightly', { pollMs: 200 });
      const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
      const results = await store.getMany(jobs.map((j) => j.id));

      expect(signal).toBe('SIGKILL');
      expect(counters).toEqual({ batchId: 'nightly', total: 200, completed: 200, failed: 0 });
      expect(results.every((r) => r?.lane === 'offline' && r.modelId === HAIKU)).toBe(true);
      // One invocation job, created once, read once: nothing was submitted or answered twice.
      expect(sim.admin.stats().batch.models[HAIKU]).toMatchObject({
        jobsCreated: 1,
        jobsEnded: { Completed: 1 },
        recordsProcessed: 200,
      });
      expect(sim.admin.stats().total.ok).toBe(0);
      expect(await ctx.redis.llen(keys.batchResults('nightly'))).toBe(200);
    } finally {
      bedrock.destroy();
      await producer.close();
    }
  }, 120_000);
});
