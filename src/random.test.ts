import { describe, expect, it } from 'vitest';
import { createRandom, deriveSeed, mulberry32 } from './random.js';

const draws = (seed: number, n: number) => {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => random());
};

describe('createRandom', () => {
  it('repeats the same sequence for the same seed', () => {
    expect(draws(42, 100)).toEqual(draws(42, 100));
  });

  it('gives unrelated sequences for neighbouring seeds', () => {
    const a = draws(1, 100);
    const b = draws(2, 100);

    expect(a.filter((x, i) => x === b[i])).toHaveLength(0);
  });

  it('draws uniformly in [0, 1)', () => {
    const xs = draws(7, 20_000);
    const buckets = new Array<number>(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]!++;

    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    for (const n of buckets) expect(n).toBeGreaterThan(1_800);
    for (const n of buckets) expect(n).toBeLessThan(2_200);
  });
});

describe('deriveSeed', () => {
  it('gives each named stream of a run its own seed', () => {
    expect(deriveSeed(1, 'faults')).not.toBe(deriveSeed(1, 'latency'));
    expect(deriveSeed(1, 'faults')).not.toBe(deriveSeed(2, 'faults'));
    expect(deriveSeed(1, 'faults')).toBe(deriveSeed(1, 'faults'));
  });
});

describe('mulberry32', () => {
  it('repeats its sequence for a seed and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);

    const xs = Array.from({ length: 1_000 }, () => a());

    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
