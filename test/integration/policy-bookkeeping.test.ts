import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BedrockModelClient, createBedrockRuntime } from '../../src/bedrock/client.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { ModelCatalog, type ResolvedModel } from '../../src/models/catalog.js';
import type { ModelRequest } from '../../src/models/request.js';
import { logBookkeepingFailures } from '../../src/queue/bookkeeping-log.js';
import { BreakerRegistry } from '../../src/resilience/breaker.js';
import { type ChainResult, runChain } from '../../src/resilience/chain.js';
import { createResilienceEvents, type ResilienceEvents } from '../../src/resilience/events.js';
import { FleetBreakers } from '../../src/resilience/fleet-breaker.js';
import { modelPolicyConfig, PolicyRegistry } from '../../src/resilience/policy-registry.js';
import {
  configuredLimits,
  type EffectiveRate,
  type RateLimiter,
  RedisRateLimiter,
  type Reservation,
} from '../../src/resilience/ratelimit.js';
import { logSink } from '../helpers/log-sink.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-70b-instruct-v1:0';
const T0 = Date.UTC(2025, 0, 1);
/** pino's number for `warn`. */
const WARN = 40;
const PROMPT = 'What is a queue?';
const REQUEST: ModelRequest = {
  messages: [{ role: 'user', content: PROMPT }],
  params: { maxTokens: 200 },
};

const ctx = useRedis();
const pipe = usePipeline();

/** A Redis connection of the test's own, quit after it. */
function connection(): Redis {
  const redis = new Redis(ctx.url);
  pipe.track({ close: async () => void (await redis.quit().catch(() => undefined)) });
  return redis;
}

/** A connection that was open and is gone: every command on it fails as Redis lost does. */
async function lostConnection(): Promise<Redis> {
  const redis = new Redis(ctx.url);
  await redis.quit();
  return redis;
}

type Step = 'refund' | 'throttled';

/**
 * The fleet limiter of a worker whose Redis goes away for a moment: the next `refund` (or
 * `throttled`) runs the real limiter's script over a lost connection, then Redis is back.
 */
class HiccupLimiter implements RateLimiter {
  private readonly failing = new Map<Step, number>();
  constructor(
    private readonly live: RedisRateLimiter,
    private readonly lost: RedisRateLimiter,
  ) {}

  /** The next `times` calls of `step` fail. */
  fail(step: Step, times = 1): this {
    this.failing.set(step, times);
    return this;
  }

  private through(step: Step): RedisRateLimiter {
    const left = this.failing.get(step) ?? 0;
    if (left === 0) return this.live;
    this.failing.set(step, left - 1);
    return this.lost;
  }

  reserve(modelId: string, tokens: number, maxWaitMs: number): Promise<Reservation> {
    return this.live.reserve(modelId, tokens, maxWaitMs);
  }
  refund(modelId: string, tokens: number, requests?: number): Promise<void> {
    return this.through('refund').refund(modelId, tokens, requests);
  }
  throttled(modelId: string): Promise<void> {
    return this.through('throttled').throttled(modelId);
  }
  rates(modelIds: readonly string[]): Promise<EffectiveRate[]> {
    return this.live.rates(modelIds);
  }
}

/**
 * A worker's pipeline for the chain Claude → Llama: the real SDK against the simulator, the
 * real fleet limiter on the test's Redis (quotas far above what a test sends), one call per
 * model and attempt (no backoff), and a clock that never moves (no call times out).
 */
async function pipeline(options: { fleet?: FleetBreakers; halfOpenAfterMs?: number } = {}) {
  const config = loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      models: { [CLAUDE]: { rpm: 1e6, tpm: 1e9 }, [LLAMA]: { rpm: 1e6, tpm: 1e9 } },
      policy: {
        retry: { maxAttempts: 1 },
        breaker: { consecutiveFailures: 1, halfOpenAfterMs: options.halfOpenAfterMs ?? 60_000 },
      },
    },
  });
  const catalog = ModelCatalog.of(config);
  const clock = new ManualClock(T0);
  const events = createResilienceEvents();
  const breakers = new BreakerRegistry({
    settingsFor: (id) => modelPolicyConfig(config, id).breaker,
    clock,
    events,
  });
  const sdk = createBedrockRuntime({ region: 'us-east-1', endpoint: pipe.sim.url, env: {} });
  pipe.track({ close: async () => sdk.destroy() });
  const policies = new PolicyRegistry({
    config,
    client: new BedrockModelClient(sdk),
    breakers,
    clock,
    rand: () => 0.5,
    events,
    ...(options.fleet ? { fleet: options.fleet } : {}),
  });
  const limiterOn = (redis: Redis) =>
    new RedisRateLimiter({
      redis,
      prefix: ctx.prefix,
      limits: configuredLimits(config, catalog),
      adaptive: config.limiter,
      clock,
    });
  const limiter = new HiccupLimiter(limiterOn(connection()), limiterOn(await lostConnection()));
  const failed: ResilienceEvents['bookkeepingFailed'][0][] = [];
  events.on('bookkeepingFailed', (e) => failed.push(e));
  // As a worker logs them.
  const log = logSink();
  logBookkeepingFailures(events, log.logger);
  const model = (id: string): ResolvedModel => catalog.resolve(id)!;
  const run = (models: readonly string[] = [CLAUDE, LLAMA]): Promise<ChainResult> =>
    runChain({
      models: models.map(model),
      request: REQUEST,
      api: 'invoke',
      policies,
      limiter,
      events,
      clock,
    });
  return { config, clock, events, breakers, limiter, failed, log, run };
}

const callsTo = (id: string): number => pipe.sim.admin.stats().models[id]?.calls ?? 0;

describe('bookkeeping after a model answered', () => {
  it('returns the answer when the limiter refund after it fails, and calls the model once', async () => {
    const p = await pipeline();
    p.limiter.fail('refund');

    const result = await p.run();

    expect(result.modelId).toBe(CLAUDE);
    expect(result.reply.text.length).toBeGreaterThan(0);
    expect(result.attempts.map((a) => [a.modelId, a.outcome])).toEqual([[CLAUDE, 'ok']]);
    expect(pipe.sim.admin.stats().total.calls).toBe(1);
    expect(p.failed.map((e) => [e.modelId, e.step])).toEqual([[CLAUDE, 'refund']]);
    const warnings = p.log.entries().filter((line) => line.level === WARN);
    expect(warnings).toEqual([
      expect.objectContaining({
        model: CLAUDE,
        step: 'refund',
        err: expect.objectContaining({ message: 'Connection is closed.' }),
      }),
    ]);
    expect(p.log.lines.join('\n')).not.toContain(PROMPT);
  });

  it('returns the answer of the only model of a chain when the refund fails, with no retry', async () => {
    const p = await pipeline();
    p.limiter.fail('refund', Number.POSITIVE_INFINITY);

    const result = await p.run([CLAUDE]);

    expect(result.modelId).toBe(CLAUDE);
    expect(callsTo(CLAUDE)).toBe(1);
    expect(p.failed).toHaveLength(1);
  });

  it('returns the answer when a listener of the call events throws', async () => {
    const p = await pipeline();
    p.events.once('call', () => {
      throw new Error('a metrics bug');
    });

    const result = await p.run();

    expect(result.modelId).toBe(CLAUDE);
    expect(pipe.sim.admin.stats().total.calls).toBe(1);
    expect(p.failed.map((e) => [e.modelId, e.step])).toEqual([[CLAUDE, 'event']]);
  });

  it('returns the answer of a probe when its breaker throws in closing', async () => {
    // Claude's breaker opens on one failure; once the outage is over, the probe answers, and a
    // listener of the breaker closing throws while the breaker records that answer.
    const p = await pipeline({ halfOpenAfterMs: 1_000 });
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    expect((await p.run()).modelId).toBe(LLAMA);
    pipe.sim.admin.clearFaults();
    p.clock.advance(1_000);
    p.events.once('close', () => {
      throw new Error('a logging bug');
    });

    const result = await p.run();

    expect(result.modelId).toBe(CLAUDE);
    expect(result.attempts.map((a) => [a.modelId, a.outcome])).toEqual([[CLAUDE, 'ok']]);
    expect([callsTo(CLAUDE), callsTo(LLAMA)]).toEqual([2, 1]);
    expect(p.failed.map((e) => [e.modelId, e.step])).toEqual([[CLAUDE, 'breaker']]);
    expect(p.breakers.get(CLAUDE).state).toBe('closed');
  });

  it('returns the answer of a fleet probe when telling the fleet it succeeded fails', async () => {
    // The fleet's breaker of Claude is open and its probe due; telling the fleet how the probe
    // went meets a lost connection.
    const clock = new ManualClock(T0);
    const fleetOn = (redis: Redis) =>
      new FleetBreakers({
        redis,
        prefix: ctx.prefix,
        owner: 'w1',
        refreshMs: 500,
        probeTimeoutMs: 60_000,
        clock,
        localClock: clock,
      });
    const lost = fleetOn(await lostConnection());
    const fleet = fleetOn(connection());
    fleet.probeSucceeded = (modelId) => lost.probeSucceeded(modelId);
    await fleet.opened(CLAUDE, 1_000);
    clock.advance(1_000);
    const p = await pipeline({ fleet });

    const result = await p.run();

    expect(result.modelId).toBe(CLAUDE);
    expect(pipe.sim.admin.stats().total.calls).toBe(1);
    expect(p.failed.map((e) => [e.modelId, e.step])).toEqual([[CLAUDE, 'probe']]);
  });
});

describe('bookkeeping after a model failed', () => {
  it('keeps the failure kind when the refund after it fails, and moves on to the next model', async () => {
    pipe.sim.admin.addFault({ model: CLAUDE, outage: true });
    const p = await pipeline();
    p.limiter.fail('refund');

    const result = await p.run();

    expect(result.modelId).toBe(LLAMA);
    expect(result.attempts.map((a) => [a.modelId, a.outcome])).toEqual([
      [CLAUDE, 'unavailable'],
      [LLAMA, 'ok'],
    ]);
    expect(callsTo(CLAUDE)).toBe(1);
    expect(p.failed.map((e) => [e.modelId, e.step])).toEqual([[CLAUDE, 'refund']]);
    expect(p.log.entries().filter((line) => line.level === WARN)).toHaveLength(1);
  });

  it('keeps a throttle a throttle when the limiter cannot record it', async () => {
    pipe.sim.admin.addFault({ model: CLAUDE, errorRate: { throttle: 1 } });
    const p = await pipeline();
    p.limiter.fail('throttled');

    const result = await p.run();

    expect(result.modelId).toBe(LLAMA);
    expect(result.attempts.map((a) => [a.modelId, a.outcome])).toEqual([
      [CLAUDE, 'throttled'],
      [LLAMA, 'ok'],
    ]);
    expect(p.failed.map((e) => [e.modelId, e.step])).toEqual([[CLAUDE, 'throttled']]);
  });
});
