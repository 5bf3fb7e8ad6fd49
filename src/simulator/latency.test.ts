import { describe, expect, it } from 'vitest';
import { createRandom } from '../random.js';
import { callLatency } from './latency.js';

const model = { firstTokenMs: 400, tokensPerSecond: 100 };

describe('callLatency', () => {
  it('uses the model time to first token and output speed without jitter', () => {
    const latency = callLatency(model, { timeScale: 1, jitter: 0, zero: false }, createRandom(1));

    expect(latency).toEqual({ firstTokenMs: 400, perTokenMs: 10 });
  });

  it('stays within ± the jitter fraction and spreads over it', () => {
    const random = createRandom(3);
    const firsts: number[] = [];
    const perTokens: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const l = callLatency(model, { timeScale: 1, jitter: 0.2, zero: false }, random);
      firsts.push(l.firstTokenMs);
      perTokens.push(l.perTokenMs);
    }

    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(320);
    expect(Math.max(...firsts)).toBeLessThanOrEqual(480);
    expect(Math.min(...firsts)).toBeLessThan(330);
    expect(Math.max(...firsts)).toBeGreaterThan(470);
    expect(Math.min(...perTokens)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...perTokens)).toBeLessThanOrEqual(12);
  });

  it('divides every delay by the time scale', () => {
    const latency = callLatency(model, { timeScale: 10, jitter: 0, zero: false }, createRandom(1));

    expect(latency).toEqual({ firstTokenMs: 40, perTokenMs: 1 });
  });

  it('answers at once with zero latency', () => {
    const latency = callLatency(model, { timeScale: 1, jitter: 0.2, zero: true }, createRandom(1));

    expect(latency).toEqual({ firstTokenMs: 0, perTokenMs: 0 });
  });

  it('is reproducible from the seed', () => {
    const opts = { timeScale: 1, jitter: 0.2, zero: false };
    const a = createRandom(9);
    const b = createRandom(9);

    expect(callLatency(model, opts, a)).toEqual(callLatency(model, opts, b));
  });
});
