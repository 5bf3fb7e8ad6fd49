import { describe, expect, it } from 'vitest';
import type { CallContext } from './control.js';
import { type QuotaLimits, Quotas, TokenBucket } from './quota.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

function call(over: Partial<CallContext> = {}): CallContext {
  return {
    modelId: HAIKU,
    baseId: HAIKU,
    operation: 'invoke',
    inputTokens: 100,
    maxOutputTokens: 100,
    promptText: 'hello',
    ...over,
  };
}

function setup(
  limits: QuotaLimits = { rpm: 60, tpm: 100_000 },
  timeScale = 1,
  profileMultiplier = 2,
  share?: () => number,
) {
  const clock = { now: 0 };
  const quotas = new Quotas({
    clock: () => clock.now,
    timeScale,
    profileMultiplier,
    limits: () => limits,
    ...(share ? { share } : {}),
  });
  return { clock, quotas };
}

function admitMany(quotas: Quotas, n: number, ctx = call()): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (quotas.admit(ctx).ok) ok++;
  return ok;
}

describe('TokenBucket', () => {
  it('refills continuously up to its capacity over one window', () => {
    const bucket = new TokenBucket(60, 60_000, 0);
    bucket.take(60);

    expect(bucket.available(30_000)).toBeCloseTo(30);
    expect(bucket.available(60_000)).toBeCloseTo(60);
    expect(bucket.available(600_000)).toBe(60);
  });
});

describe('Quotas', () => {
  it('admits a full minute of requests at once, then refuses with the RPM message', () => {
    const { quotas } = setup({ rpm: 60, tpm: 1_000_000 });

    expect(admitMany(quotas, 60)).toBe(60);
    const refused = quotas.admit(call());

    expect(refused).toEqual({
      ok: false,
      error: { name: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' },
    });
  });

  it('admits again as the bucket refills: one request per second at 60 rpm', () => {
    const { clock, quotas } = setup({ rpm: 60, tpm: 1_000_000 });
    admitMany(quotas, 60);

    clock.now = 999;
    expect(quotas.admit(call()).ok).toBe(false);
    clock.now = 1_000;
    expect(quotas.admit(call()).ok).toBe(true);
    expect(quotas.admit(call()).ok).toBe(false);
  });

  it('charges input plus max output tokens up front and refuses with the TPM message', () => {
    const { quotas } = setup({ rpm: 1_000, tpm: 1_000 });

    expect(quotas.admit(call({ inputTokens: 300, maxOutputTokens: 400 })).ok).toBe(true);
    const refused = quotas.admit(call({ inputTokens: 200, maxOutputTokens: 200 }));

    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error.message).toBe('Too many tokens, please wait before trying again.');
  });

  it('charges nothing for a refused call', () => {
    const { quotas } = setup({ rpm: 1_000, tpm: 1_000 });
    quotas.admit(call({ inputTokens: 500, maxOutputTokens: 0 }));

    for (let i = 0; i < 5; i++) quotas.admit(call({ inputTokens: 600, maxOutputTokens: 0 }));

    expect(quotas.levels()[HAIKU]).toEqual({ requests: 999, tokens: 500 });
    expect(quotas.admit(call({ inputTokens: 500, maxOutputTokens: 0 })).ok).toBe(true);
  });

  it('gives back the unused part of the reservation when the call settles', () => {
    const { quotas } = setup({ rpm: 1_000, tpm: 1_000 });
    const first = quotas.admit(call({ inputTokens: 100, maxOutputTokens: 800 }));
    expect(quotas.admit(call({ inputTokens: 100, maxOutputTokens: 400 })).ok).toBe(false);

    if (first.ok) quotas.settle(first.reservation, 150);

    expect(first.ok && first.reservation.reservedTokens).toBe(900);
    expect(quotas.levels()[HAIKU]?.tokens).toBe(850);
    expect(quotas.admit(call({ inputTokens: 100, maxOutputTokens: 400 })).ok).toBe(true);
  });

  it('gives cross-region profile ids their own quota, twice the on-demand one by default', () => {
    const { quotas } = setup({ rpm: 10, tpm: 1_000_000 });

    const onDemand = admitMany(quotas, 50);
    const viaUs = admitMany(quotas, 50, call({ modelId: `us.${HAIKU}`, geo: 'us' }));
    const viaEu = admitMany(quotas, 50, call({ modelId: `eu.${HAIKU}`, geo: 'eu' }));

    expect([onDemand, viaUs, viaEu]).toEqual([10, 20, 20]);
  });

  it('applies the configured profile multiplier', () => {
    const { quotas } = setup({ rpm: 10, tpm: 1_000_000 }, 1, 3);

    expect(admitMany(quotas, 50, call({ geo: 'us' }))).toBe(30);
  });

  it('shortens the refill window by the time scale', () => {
    const { clock, quotas } = setup({ rpm: 60, tpm: 1_000_000 }, 60);
    admitMany(quotas, 60);

    clock.now = 500;
    const halfWindow = admitMany(quotas, 60);
    clock.now = 1_500;
    const fullWindow = admitMany(quotas, 60);

    expect(halfWindow).toBe(30);
    expect(fullWindow).toBe(60);
  });

  it('admits a call larger than the whole TPM quota against a full bucket', () => {
    const { quotas } = setup({ rpm: 60, tpm: 1_000 });

    expect(quotas.admit(call({ inputTokens: 5_000, maxOutputTokens: 1_000 })).ok).toBe(true);
    expect(quotas.admit(call({ inputTokens: 1, maxOutputTokens: 1 })).ok).toBe(false);
  });

  it('follows a quota lowered at run time without granting a new burst', () => {
    const clock = { now: 0 };
    const limits = { rpm: 100, tpm: 1_000_000 };
    const quotas = new Quotas({
      clock: () => clock.now,
      timeScale: 1,
      profileMultiplier: 2,
      limits: () => limits,
    });
    admitMany(quotas, 95);

    limits.rpm = 10;

    expect(admitMany(quotas, 20)).toBe(5);
  });

  it('refills every bucket on reset', () => {
    const { quotas } = setup({ rpm: 5, tpm: 1_000_000 });
    admitMany(quotas, 5);

    quotas.reset();

    expect(admitMany(quotas, 10)).toBe(5);
  });
});

describe('quota windows', () => {
  it('enforces a per-second window: one second of quota at once, then its rate', () => {
    const { clock, quotas } = setup({ rpm: 600, tpm: 1e9, windowSeconds: 1 });

    const burst = admitMany(quotas, 15);
    clock.now = 100;
    const afterTenthOfASecond = admitMany(quotas, 5);
    clock.now = 1_100;
    const afterASecond = admitMany(quotas, 15);

    expect([burst, afterTenthOfASecond, afterASecond]).toEqual([10, 1, 10]);
  });

  it('lets the same quota over a minute absorb the burst a second refuses', () => {
    const { quotas } = setup({ rpm: 600, tpm: 1e9 });

    expect(admitMany(quotas, 700)).toBe(600);
  });

  it('holds `burst` windows of quota', () => {
    const { quotas } = setup({ rpm: 600, tpm: 1e9, windowSeconds: 10, burst: 2 });

    expect(admitMany(quotas, 500)).toBe(200);
  });

  it('shrinks to the share left by unseen traffic of the account, and grows back', () => {
    let share = 0.4;
    const { clock, quotas } = setup({ rpm: 600, tpm: 1e9, windowSeconds: 1 }, 1, 2, () => share);

    const shared = admitMany(quotas, 15);
    clock.now = 1_000;
    const sharedSecond = admitMany(quotas, 15);
    share = 1;
    clock.now = 2_000;
    const firstFree = admitMany(quotas, 15); // what refilled while shared
    clock.now = 3_000;
    const whole = admitMany(quotas, 15);

    expect([shared, sharedSecond, firstFree, whole]).toEqual([4, 4, 4, 10]);
  });
});
