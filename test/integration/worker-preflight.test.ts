import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { ManualClock } from '../../src/clock.js';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { startPreflight } from '../../src/queue/preflight.js';
import { readPreflight } from '../../src/queue/preflight-record.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { startSimulatorWithProfile } from '../../src/simulator/index.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const NOVA = 'amazon.nova-lite-v1:0';

const ctx = useRedis();
const pipe = usePipeline();

function testConfig(chain: string[], overrides: ConfigInput = {}, endpoint = pipe.sim.url): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint,
      chains: { default: chain },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, busyBackoffMs: 50 },
      ...overrides,
    },
  });
}

/** A logger whose warnings a test can read. */
function warnings(): { logger: ReturnType<typeof createLogger>; lines: () => { msg: string }[] } {
  const raw: string[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: { write: (l: string) => raw.push(l) } as unknown as NodeJS.WritableStream,
  });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as { msg: string }) };
}

const ask = (id: string) => ({
  id,
  task: 'generate' as const,
  messages: [{ role: 'user' as const, content: `Question ${id}: what is a queue?` }],
});

describe('worker preflight', () => {
  it('warns once about a chain model that is not enabled, and serves every job with the next one without calling it', async () => {
    pipe.sim.admin.setModel(HAIKU, { enabled: false });
    const config = testConfig([HAIKU, TITAN]);
    const { logger, lines } = warnings();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: config.prefix, config }));
    const worker = await startWorker({ config, logger, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });

    await producer.enqueueBatch(
      Array.from({ length: 10 }, (_, i) => ask(`pf-${i}`)),
      { batchId: 'pf' },
    );
    const counters = await producer.waitForBatch('pf', { pollMs: 100 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => producer.getResult(`pf-${i}`)));
    const stats = pipe.sim.admin.stats().models;

    expect(counters).toMatchObject({ completed: 10, failed: 0 });
    for (const r of results) {
      expect(r?.modelId).toBe(TITAN);
      expect(r?.attempts.map((a) => a.modelId)).toEqual([TITAN]);
    }
    expect(stats[HAIKU]?.calls ?? 0).toBe(0);
    expect(stats[TITAN]?.ok).toBe(10);
    const warned = lines().filter((l) => l.msg.includes(HAIKU));
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toMatch(/chain "default"/);
    expect(warned[0]?.msg).toMatch(/not usable/);
  });

  it('shows what it found in Redis for status, models and GET /v1/models', async () => {
    pipe.sim.admin.setModel(HAIKU, { enabled: false });
    const config = testConfig([HAIKU, `us.${NOVA}`]);
    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const api = await buildApi({ config });
    pipe.track(api);

    const record = await readPreflight(ctx.redis, keysFor(ctx.prefix));
    const models = (await api.app.inject({ method: 'GET', url: '/v1/models' })).json() as {
      id: string;
      access: { id: string; status: string }[] | null;
    }[];
    const ttl = await ctx.redis.ttl(keysFor(ctx.prefix).preflight);

    expect(record?.status).toBe('checked');
    expect(record?.chains).toEqual({ default: [HAIKU, `us.${NOVA}`] });
    expect(record?.models.find((m) => m.id === HAIKU)).toMatchObject({ status: 'unusable' });
    expect(record?.models.find((m) => m.id === `us.${NOVA}`)).toMatchObject({
      status: 'usable',
      profile: { regions: ['us-east-1', 'us-east-2', 'us-west-2'] },
    });
    expect(models.find((m) => m.id === HAIKU)?.access).toEqual([
      expect.objectContaining({ id: HAIKU, status: 'unusable' }),
    ]);
    expect(models.find((m) => m.id === NOVA)?.access).toEqual([
      expect.objectContaining({ id: `us.${NOVA}`, status: 'usable' }),
    ]);
    expect(ttl).toBeGreaterThan(0);
  });

  it('with strict, refuses to start when no model of a chain is usable, naming chain and model', async () => {
    pipe.sim.admin.setModel(HAIKU, { enabled: false });
    const config = testConfig([HAIKU], { chains: { default: [TITAN], solo: [HAIKU] } });

    const started = startWorker({ config, strict: true, fleetRateLimits: false });

    await expect(started).rejects.toThrow(
      /--strict: no model the account may use in chain "solo": anthropic\.claude-3-haiku/,
    );
    await expect(started).rejects.toMatchObject({ name: 'PreflightRefusal' });
  });

  it("without strict, starts with such a chain, and its jobs fail with Bedrock's own answer", async () => {
    pipe.sim.admin.setModel(HAIKU, { enabled: false });
    const config = testConfig([HAIKU]);
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: config.prefix, config }));
    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });

    await producer.enqueueBatch([ask('dead-1')], { batchId: 'dead' });
    await producer.waitForBatch('dead', { pollMs: 100 });
    const result = await producer.getResult('dead-1');

    expect(result?.status).toBe('failed');
    expect(result?.attempts[0]).toMatchObject({ modelId: HAIKU, outcome: 'access_denied', httpStatus: 403 });
  });

  it('warns once and runs without preflight when the control plane refuses it', async () => {
    const denied = await startSimulatorWithProfile({
      profile: { zeroLatency: true, jitter: 0, models: {}, faults: [], profileMultiplier: 2 },
      controlPlane: { access: 'denied' },
    });
    pipe.track(denied);
    denied.admin.setModel(HAIKU, { enabled: false });
    const config = testConfig([HAIKU, TITAN], {}, denied.url);
    const { logger, lines } = warnings();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: config.prefix, config }));
    const worker = await startWorker({ config, logger, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });

    await producer.enqueueBatch([ask('nd-1')], { batchId: 'nd' });
    await producer.waitForBatch('nd', { pollMs: 100 });
    const result = await producer.getResult('nd-1');
    const record = await readPreflight(ctx.redis, keysFor(ctx.prefix));

    const notes = lines().filter((l) => /control plane/.test(l.msg));
    expect(notes).toHaveLength(1);
    expect(notes[0]?.msg).toMatch(
      /\(no permission for bedrock:ListFoundationModels\); running without preflight/,
    );
    expect(result?.modelId).toBe(TITAN);
    expect(result?.attempts.map((a) => a.outcome)).toEqual(['access_denied', 'ok']);
    expect(record).toMatchObject({ status: 'unreachable' });
  });

  it('uses a model again once a refresh finds it enabled', async () => {
    pipe.sim.admin.setModel(HAIKU, { enabled: false });
    const config = testConfig([HAIKU, TITAN], { worker: { preflightRefreshMs: 60_000 } });
    const clock = new ManualClock(0);
    const preflight = await startPreflight({
      config,
      catalog: ModelCatalog.of(config),
      redis: ctx.redis,
      keys: keysFor(ctx.prefix),
      logger: createLogger({ level: 'silent' }),
      clock,
    });
    pipe.track(preflight);
    const before = preflight.unusable.has(HAIKU);

    pipe.sim.admin.setModel(HAIKU, { enabled: true });
    await clock.sleeping(1);
    clock.advance(config.worker.preflightRefreshMs);

    expect(before).toBe(true);
    await expect.poll(() => preflight.unusable.has(HAIKU), { timeout: 30_000 }).toBe(false);
  });
});
