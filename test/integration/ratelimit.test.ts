import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConfigSchema } from '../../src/config.js';
import { type RateLimits, RedisRateLimiter } from '../../src/resilience/ratelimit.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const ADAPTIVE = ConfigSchema.parse({}).limiter;
const T0 = 1_700_000_000_000;

/** Connections opened by a test; closed before the leak check. */
const opened: Redis[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.quit()));
});

/** A quota of `rpm` requests (10/s at 600) with tokens to spare, configured, no burst. */
function quota(overrides: Partial<RateLimits> = {}): RateLimits {
  return { rpm: 600, tpm: 1e9, configured: true, burstSeconds: 0, ...overrides };
}

/** A limiter on its own connection, as a separate worker process would have. */
function worker(limits: RateLimits | undefined, clock: ManualClock): RedisRateLimiter {
  const redis = new Redis(ctx.url);
  opened.push(redis);
  return new RedisRateLimiter({ redis, prefix: ctx.prefix, limits: () => limits, adaptive: ADAPTIVE, clock });
}

/** The delays of `n` reservations made at the same instant, or `refused` for a refusal. */
async function reserveMany(limiter: RedisRateLimiter, n: number, tokens = 1, maxWaitMs = 60_000) {
  const out: (number | 'refused')[] = [];
  for (let i = 0; i < n; i++) {
    const r = await limiter.reserve(MODEL, tokens, maxWaitMs);
    out.push(r.ok ? r.delayMs : 'refused');
  }
  return out;
}

async function rpmOf(limiter: RedisRateLimiter): Promise<number> {
  const [rate] = await limiter.rates([MODEL]);
  return Math.round(rate?.rpm ?? Number.NaN);
}

describe('fleet pacing', () => {
  it('spaces calls evenly from a cold start instead of letting a minute out at once', async () => {
    const limiter = worker(quota(), new ManualClock(T0));

    expect(await reserveMany(limiter, 5)).toEqual([0, 100, 200, 300, 400]);
  });

  it('spaces the calls of two workers as one fleet', async () => {
    const clock = new ManualClock(T0);
    const a = worker(quota(), clock);
    const b = worker(quota(), clock);
    const delays: number[] = [];

    for (let i = 0; i < 6; i++) {
      const r = await (i % 2 === 0 ? a : b).reserve(MODEL, 1, 60_000);
      if (r.ok) delays.push(r.delayMs);
    }

    expect(delays).toEqual([0, 100, 200, 300, 400, 500]);
  });

  it('refuses a slot further away than the caller waits, and takes nothing for it', async () => {
    const limiter = worker(quota(), new ManualClock(T0));
    await reserveMany(limiter, 3);

    const refused = await limiter.reserve(MODEL, 1, 250);
    const next = await limiter.reserve(MODEL, 1, 60_000);

    expect(refused).toEqual({ ok: false, retryAfterMs: 300 });
    expect(next).toEqual({ ok: true, delayMs: 300 });
  });

  it('lets exactly burstSeconds of quota go at once, then paces', async () => {
    const limiter = worker(quota({ burstSeconds: 0.5 }), new ManualClock(T0));

    expect(await reserveMany(limiter, 8)).toEqual([0, 0, 0, 0, 0, 100, 200, 300]);
  });

  it('paces tokens, and admits a request larger than the burst once, leaving a debt', async () => {
    const limiter = worker(quota({ tpm: 6_000 }), new ManualClock(T0)); // 100 tokens/s

    const delays = await reserveMany(limiter, 3, 50);
    const huge = await limiter.reserve(MODEL, 1_000, 60_000);
    const after = await limiter.reserve(MODEL, 1, 60_000);

    expect(delays).toEqual([0, 500, 1_000]);
    expect(huge).toEqual({ ok: true, delayMs: 1_500 });
    expect(after).toEqual({ ok: true, delayMs: 11_500 });
  });

  it('moves the next slot earlier when a reservation is given back', async () => {
    const limiter = worker(quota(), new ManualClock(T0));
    await reserveMany(limiter, 4);

    await limiter.refund(MODEL, 0, 2);

    expect(await limiter.reserve(MODEL, 1, 60_000)).toEqual({ ok: true, delayMs: 200 });
  });

  it('admits everything for a model without limits', async () => {
    const limiter = worker(undefined, new ManualClock(T0));

    expect(await reserveMany(limiter, 3)).toEqual([0, 0, 0]);
    expect(await limiter.rates([MODEL])).toEqual([]);
  });
});

describe('adaptive fleet rate', () => {
  it('cuts the rate once per window on throttles, however many workers report them', async () => {
    const clock = new ManualClock(T0);
    const a = worker(quota(), clock);
    const b = worker(quota(), clock);

    await a.throttled(MODEL);
    await b.throttled(MODEL);
    await a.throttled(MODEL);
    const once = await rpmOf(b);
    clock.advance(ADAPTIVE.decreaseWindowMs);
    await b.throttled(MODEL);
    const twice = await rpmOf(a);

    expect(once).toBe(420);
    expect(twice).toBe(294);
  });

  it('spends the rest of a burst on a throttle right after it, and keeps the rate', async () => {
    const limiter = worker(quota({ burstSeconds: 1 }), new ManualClock(T0));
    await reserveMany(limiter, 5); // half of the 10-call burst

    await limiter.throttled(MODEL);

    expect(await reserveMany(limiter, 3)).toEqual([0, 100, 200]);
    expect(await rpmOf(limiter)).toBe(600);
  });

  it('cuts the rate on a throttle once the burst is a grace period past', async () => {
    const clock = new ManualClock(T0);
    const limiter = worker(quota({ burstSeconds: 1 }), clock);
    await reserveMany(limiter, 10);
    clock.advance(Math.max(1_000, ADAPTIVE.decreaseWindowMs) + 1);

    await limiter.throttled(MODEL);

    expect(await rpmOf(limiter)).toBe(420);
  });

  it('cuts the rate on a throttle of calls that went at the even pace, burst or not', async () => {
    const clock = new ManualClock(T0);
    const limiter = worker(quota({ burstSeconds: 1 }), clock);
    await reserveMany(limiter, 10); // the burst
    for (let i = 0; i < 15; i++) {
      await limiter.reserve(MODEL, 1, 60_000); // demand above the rate: each waits its slot
      clock.advance(100);
    }

    await limiter.throttled(MODEL);

    expect(await rpmOf(limiter)).toBe(420);
  });

  it('paces at the lowered rate after a throttle', async () => {
    const limiter = worker(quota(), new ManualClock(T0));

    await limiter.throttled(MODEL);

    expect(await reserveMany(limiter, 3)).toEqual([0, 143, 286]); // 60 000 / 420 ≈ 142.9 ms apart
  });

  it('grows back to the configured quota while demand meets it, never beyond', async () => {
    const clock = new ManualClock(T0);
    const limiter = worker(quota(), clock);
    await limiter.throttled(MODEL);
    const seen: number[] = [];

    for (let second = 0; second < 20; second++) {
      for (let i = 0; i < 10; i++) {
        await limiter.reserve(MODEL, 1, 0); // demand above the rate: callers keep finding it busy
        clock.advance(100);
      }
      seen.push(await rpmOf(limiter));
    }

    expect(seen[0]).toBe(420); // no growth in the window after a decrease
    expect(seen.slice(1, 6).every((rpm, i) => rpm > (seen[i] ?? 0))).toBe(true);
    expect(seen.at(-1)).toBe(600);
  });

  it('does not grow while demand stays below the rate', async () => {
    const clock = new ManualClock(T0);
    const limiter = worker(quota(), clock);
    await limiter.throttled(MODEL);

    for (let i = 0; i < 50; i++) {
      await limiter.reserve(MODEL, 1, 0);
      clock.advance(500); // 2 calls/s against a rate of 7/s
    }

    expect(await rpmOf(limiter)).toBe(420);
  });

  it('grows an unconfigured rate past the catalog default to find what Bedrock admits', async () => {
    const clock = new ManualClock(T0);
    const limiter = worker(quota({ configured: false }), clock);

    for (let i = 0; i < 300; i++) {
      await limiter.reserve(MODEL, 1, 0);
      clock.advance(50); // 20 calls/s asked, 10/s allowed at first
    }

    expect(await rpmOf(limiter)).toBeGreaterThan(600);
    expect(await rpmOf(limiter)).toBeLessThanOrEqual(600 * ADAPTIVE.discoverUpTo);
  });

  it('keeps the adaptive state for an hour past the last reservation, on Redis time', async () => {
    const redis = new Redis(ctx.url);
    opened.push(redis);
    const limiter = new RedisRateLimiter({
      redis,
      prefix: ctx.prefix,
      limits: () => quota(),
      adaptive: ADAPTIVE,
    });

    await limiter.throttled(MODEL);
    const ttl = await redis.pttl(limiter.key(MODEL));

    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });
});
