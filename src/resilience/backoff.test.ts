import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MODEL_ERROR_KINDS } from '../models/errors.js';
import { nextDelayMs } from './backoff.js';

const SETTINGS = { baseDelayMs: 250, throttleBaseDelayMs: 1_000, maxDelayMs: 20_000 };

describe('nextDelayMs', () => {
  it('doubles the ceiling each attempt and jitters below it', () => {
    const half = () => 0.5;

    const delays = [0, 1, 2, 3].map((attempt) =>
      nextDelayMs({ attempt, kind: 'unavailable', rand: half, ...SETTINGS }),
    );

    expect(delays).toEqual([125, 250, 500, 1_000]);
  });

  it('backs off from a larger base after a throttle', () => {
    const one = () => 0.999_999;

    const afterThrottle = nextDelayMs({ attempt: 0, kind: 'throttled', rand: one, ...SETTINGS });
    const afterOutage = nextDelayMs({ attempt: 0, kind: 'unavailable', rand: one, ...SETTINGS });

    expect(afterThrottle).toBe(999);
    expect(afterOutage).toBe(249);
  });

  it('never waits less than retry-after, nor more than the cap', () => {
    const zero = () => 0;

    expect(nextDelayMs({ attempt: 0, kind: 'throttled', retryAfterMs: 7_000, rand: zero, ...SETTINGS })).toBe(
      7_000,
    );
    expect(
      nextDelayMs({ attempt: 0, kind: 'throttled', retryAfterMs: 90_000, rand: zero, ...SETTINGS }),
    ).toBe(20_000);
  });

  it('stays within [max(retry-after, 0), maxDelayMs] for any input', () => {
    fc.assert(
      fc.property(
        fc.nat(80),
        fc.constantFrom(...MODEL_ERROR_KINDS),
        fc.option(fc.nat(200_000), { nil: undefined }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, kind, retryAfterMs, r) => {
          const delay = nextDelayMs({ attempt, kind, retryAfterMs, rand: () => r, ...SETTINGS });

          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.min(retryAfterMs ?? 0, SETTINGS.maxDelayMs));
          expect(delay).toBeLessThanOrEqual(SETTINGS.maxDelayMs);
        },
      ),
    );
  });
});
