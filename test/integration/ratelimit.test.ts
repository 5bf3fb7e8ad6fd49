import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { type RateLimits, RedisRateLimiter } from '../../src/resilience/ratelimit.js';
import { redisTimeMs, useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';

/** Connections opened by a test; closed before the leak check. */
const opened: Redis[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((r) => r.quit()));
});

/** A limiter on its own connection, as a separate worker process would have. */
function worker(limits: RateLimits | undefined, clock?: ManualClock): RedisRateLimiter {
  const redis = new Redis(ctx.url);
  opened.push(redis);
  return new RedisRateLimiter({
    redis,
    prefix: ctx.prefix,
    limits: () => limits,
    ...(clock ? { clock } : {}),
  });
}

describe('RedisRateLimiter', () => {
  it('lets two workers together admit exactly the fleet budget', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const limits = { rpm: 60, tpm: 1_000_000 };
    const workers = [worker(limits, clock), worker(limits, clock)];
    let admitted = 0;
    const refusals: number[] = [];

    for (let i = 0; i < 100; i++) {
      const answer = await workers[i % 2]?.acquire(MODEL, 10);
      if (answer?.ok) admitted++;
      else if (answer) refusals.push(answer.retryAfterMs);
    }
    clock.advance(1_000);
    const afterOneSecond = await Promise.all([
      workers[0]?.acquire(MODEL, 10),
      workers[1]?.acquire(MODEL, 10),
    ]);

    expect(admitted).toBe(60);
    expect(new Set(refusals)).toEqual(new Set([1_000]));
    expect(afterOneSecond.filter((a) => a?.ok)).toHaveLength(1);
  });

  it('holds back a request whose tokens exceed what is left of the minute', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const limiter = worker({ rpm: 1_000, tpm: 1_000 }, clock);

    const first = await limiter.acquire(MODEL, 800);
    const second = await limiter.acquire(MODEL, 300);

    expect(first).toEqual({ ok: true });
    expect(second).toEqual({ ok: false, retryAfterMs: 6_000 }); // 100 tokens short at 1,000 a minute
  });

  it('returns refunded tokens to every worker', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const a = worker({ rpm: 1_000, tpm: 1_000 }, clock);
    const b = worker({ rpm: 1_000, tpm: 1_000 }, clock);
    await a.acquire(MODEL, 1_000);

    const beforeRefund = await b.acquire(MODEL, 400);
    await a.refund(MODEL, 500);
    const afterRefund = await b.acquire(MODEL, 400);

    expect(beforeRefund.ok).toBe(false);
    expect(afterRefund.ok).toBe(true);
  });

  it('returns a refunded request slot', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const limiter = worker({ rpm: 1, tpm: 1_000 }, clock);
    await limiter.acquire(MODEL, 1);

    const refused = await limiter.acquire(MODEL, 1);
    await limiter.refund(MODEL, 1, 1);
    const admitted = await limiter.acquire(MODEL, 1);

    expect(refused).toEqual({ ok: false, retryAfterMs: 60_000 });
    expect(admitted).toEqual({ ok: true });
  });

  it('admits an oversize request from a full bucket and makes the next caller wait off the debt', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const limiter = worker({ rpm: 100, tpm: 1_000 }, clock);

    const big = await limiter.acquire(MODEL, 1_500);
    const next = await limiter.acquire(MODEL, 100);

    expect(big).toEqual({ ok: true });
    expect(next).toEqual({ ok: false, retryAfterMs: 36_000 }); // from −500 to 100 tokens
  });

  it('reads the time from Redis when no clock is given and lets its key expire once refilled', async () => {
    const limiter = worker({ rpm: 60, tpm: 6_000 });

    const before = await redisTimeMs(ctx.redis);
    const answer = await limiter.acquire(MODEL, 600);
    const after = await redisTimeMs(ctx.redis);
    const stampedAt = Number(await ctx.redis.hget(limiter.key(MODEL), 'ts'));
    const expiresAt = await ctx.redis.pexpiretime(limiter.key(MODEL));

    expect(answer).toEqual({ ok: true });
    expect(stampedAt).toBeGreaterThanOrEqual(before);
    expect(stampedAt).toBeLessThanOrEqual(after);
    // 600 of 6,000 tokens refill in 6 s, plus a second; the expiry is set on Redis's clock
    // within the same script, so it lies between the stamp and the end of the call.
    expect(expiresAt - stampedAt).toBeGreaterThanOrEqual(7_000);
    expect(expiresAt - after).toBeLessThanOrEqual(7_000);
  });

  it('admits everything for a model without limits and writes no key', async () => {
    const limiter = worker(undefined);

    const answer = await limiter.acquire(MODEL, 1e9);

    expect(answer).toEqual({ ok: true });
    expect(await ctx.redis.exists(limiter.key(MODEL))).toBe(0);
  });
});
