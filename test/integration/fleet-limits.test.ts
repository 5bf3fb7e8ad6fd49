import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { readFleetState } from '../../src/resilience/fleet-view.js';
import { ProfileSchema, startSimulatorWithProfile } from '../../src/simulator/index.js';
import { BIN, ROOT } from '../e2e/helpers.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-70b-instruct-v1:0';
const SECOND = 1_000;

const ctx = useRedis();

/**
 * A simulator that enforces quotas per second, as strictly as Bedrock may: a second's share of
 * the per-minute quota, no more, so any burst above the rate is throttled.
 */
async function perSecondSimulator(quotas: Record<string, number>) {
  const models = Object.fromEntries(
    Object.entries(quotas).map(([id, rpm]) => [id, { rpm, tpm: 1e9, quotaWindowSeconds: 1 }]),
  );
  return startSimulatorWithProfile({
    profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models }),
  });
}

function configFor(endpoint: string, overrides: ConfigInput): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint,
      logLevel: 'warn',
      worker: { concurrency: 8, shutdownTimeoutMs: 5_000, jobAttempts: 3, busyBackoffMs: 50 },
      ...overrides,
    },
  });
}

function jobs(count: number, prefix: string) {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    task: 'generate' as const,
    messages: [{ role: 'user' as const, content: `Question ${i}` }],
  }));
}

/** A `bedrock-jobs worker` process, as a deployment runs it. */
function workerProcess(configFile: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'worker'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', BEDROCK_JOBS_CONFIG: configFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

describe('fleet rate limits', { timeout: 120 * SECOND }, () => {
  it('keeps two worker processes together under each model’s rate, with almost no throttles', async () => {
    const sim = await perSecondSimulator({ [CLAUDE]: 600, [LLAMA]: 300 });
    const config = {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: sim.url,
      logLevel: 'warn',
      chains: { default: [CLAUDE, LLAMA] },
      models: { [CLAUDE]: { rpm: 600 }, [LLAMA]: { rpm: 300 } },
      worker: { concurrency: 8 },
    };
    const file = join(mkdtempSync(join(tmpdir(), 'bj-fleet-')), 'config.json');
    writeFileSync(file, JSON.stringify(config));
    const producer: Producer = createProducer({
      redis: ctx.url,
      prefix: ctx.prefix,
      config: loadConfig({ file, env: {} }),
    });
    const workers = [workerProcess(file), workerProcess(file)];
    try {
      await producer.enqueueBatch(jobs(150, 'two'), { batchId: 'two' });
      const done = await producer.waitForBatch('two', { pollMs: 200 });
      const stats = sim.admin.stats();
      const calls = stats.total.calls;
      const served = (id: string) => stats.models[id]?.ok ?? 0;

      expect(done).toMatchObject({ total: 150, completed: 150, failed: 0 });
      // The per-second windows refuse anything above the rate: few refusals prove the pace.
      expect(stats.total.throttled / calls).toBeLessThanOrEqual(0.05);
      // Demand above Claude's rate spilled to Llama instead of waiting.
      expect(served(CLAUDE)).toBeGreaterThan(0);
      expect(served(LLAMA)).toBeGreaterThan(0);
    } finally {
      await Promise.all(workers.map(stop));
      await producer.close();
      await sim.close();
    }
  });

  it('lowers a model’s fleet rate when the account’s quota shrinks, and grows it back after', async () => {
    const sim = await perSecondSimulator({ [CLAUDE]: 600 });
    const config = configFor(sim.url, {
      chains: { default: [CLAUDE] },
      models: { [CLAUDE]: { rpm: 600 } },
      limiter: { increasePerSecond: 0.25 },
    });
    const catalog = new ModelCatalog();
    const rpm = async () => (await readFleetState(ctx.redis, config, catalog, [CLAUDE]))[0]?.rate?.rpm ?? 0;
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config });
    const worker = await startWorker({ config });
    try {
      await producer.enqueueBatch(jobs(2_000, 'shared'), { batchId: 'shared' });
      await expect
        .poll(async () => (await producer.getBatch('shared'))?.completed ?? 0, { timeout: 60 * SECOND })
        .toBeGreaterThan(20);
      const before = await rpm();

      // Other software of the account starts using 60 % of the quota.
      sim.admin.addFault({ model: CLAUDE, sharedAccount: { unseenShare: 0.6 } });
      await expect.poll(rpm, { timeout: 60 * SECOND, interval: 50 }).toBeLessThanOrEqual(600 * 0.7 * 0.7);
      const throttledWhileShared = sim.admin.stats().models[CLAUDE]?.throttled ?? 0;
      sim.admin.clearFaults();
      await expect.poll(rpm, { timeout: 60 * SECOND, interval: 50 }).toBeGreaterThanOrEqual(590);

      expect(before).toBe(600);
      expect(throttledWhileShared).toBeGreaterThan(0);
      expect(await rpm()).toBeLessThanOrEqual(600);
    } finally {
      await worker.close({ deadlineMs: 1_000 });
      await producer.close();
      await sim.close();
    }
  });

  it('finds a model’s real rate when no quota is configured', async () => {
    // The catalog says 1,000 requests a minute; this account gets 300.
    const sim = await perSecondSimulator({ [CLAUDE]: 300 });
    const config = configFor(sim.url, { chains: { default: [CLAUDE] } });
    const catalog = new ModelCatalog();
    const rpm = async () => (await readFleetState(ctx.redis, config, catalog, [CLAUDE]))[0]?.rate?.rpm ?? 0;
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config });
    const worker = await startWorker({ config });
    try {
      const start = await rpm();
      await producer.enqueueBatch(jobs(2_000, 'unknown'), { batchId: 'unknown' });

      await expect.poll(rpm, { timeout: 60 * SECOND, interval: 50 }).toBeLessThanOrEqual(300 * 1.2);
      await expect.poll(rpm, { timeout: 60 * SECOND, interval: 50 }).toBeGreaterThanOrEqual(300 * 0.8);

      expect(start).toBe(1_000);
    } finally {
      await worker.close({ deadlineMs: 1_000 });
      await producer.close();
      await sim.close();
    }
  });
});
