import { describe, expect, it } from 'vitest';
import { LATENCY_BOUNDS_MS, latencyBucket, latencyQuantile } from './latency.js';

describe('latency buckets', () => {
  it('puts a latency in the first bucket whose bound is not below it', () => {
    expect(latencyBucket(0)).toBe('5');
    expect(latencyBucket(5)).toBe('5');
    expect(latencyBucket(5.01)).toBe('10');
    expect(latencyBucket(120_000)).toBe('120000');
    expect(latencyBucket(120_001)).toBe('+Inf');
  });

  it('interpolates a quantile inside its bucket, as histogram_quantile does', () => {
    const counts = { '50': 10, '1000': 10 };

    expect(latencyQuantile(counts, 0.5)).toBe(50);
    expect(latencyQuantile(counts, 0.95)).toBe(950);
    expect(latencyQuantile(counts, 0.25)).toBe(37.5); // halfway through (25, 50]
    expect(latencyQuantile({ '5': 4 }, 0.5)).toBe(2.5); // the first bucket starts at 0
  });

  it('answers the largest finite bound for a quantile in +Inf, and null with nothing counted', () => {
    expect(latencyQuantile({ '+Inf': 3 }, 0.5)).toBe(LATENCY_BOUNDS_MS.at(-1));
    expect(latencyQuantile({}, 0.5)).toBeNull();
    expect(latencyQuantile({ '50': 0 }, 0.5)).toBeNull();
  });
});
