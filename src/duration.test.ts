import { describe, expect, it } from 'vitest';
import { DurationSchema, formatDuration } from './duration.js';

describe('durations on the command line', () => {
  it('reads what people type, in milliseconds', () => {
    expect(['10m', '90s', '1h30m', '250ms', '1.5s', ' 2h '].map((d) => DurationSchema.parse(d))).toEqual([
      600_000, 90_000, 5_400_000, 250, 1_500, 7_200_000,
    ]);
  });

  it('refuses a number without a unit, nothing, zero and nonsense, saying what it wants', () => {
    for (const bad of ['10', '', '0s', 'm', '10 minutes', '-5m', '1e3s']) {
      const parsed = DurationSchema.safeParse(bad);
      expect(parsed.success, bad).toBe(false);
      expect(parsed.error?.issues[0]?.message).toMatch(/is not a duration; write e\.g\. 10m, 90s/);
    }
  });

  it('writes a duration back the way it is read', () => {
    expect([600_000, 5_400_000, 90_000, 1_500, 250, 3_600_000].map(formatDuration)).toEqual([
      '10m',
      '1h30m',
      '1m30s',
      '1.5s',
      '250ms',
      '1h',
    ]);
    for (const ms of [600_000, 5_400_000, 90_000, 1_500, 250])
      expect(DurationSchema.parse(formatDuration(ms))).toBe(ms);
  });
});
