import { describe, expect, it } from 'vitest';
import { TokenCalibration } from './calibration.js';

describe('token calibration from real usage', () => {
  it('shrinks the budget of a model whose tokenizer counts more than we estimate', () => {
    const c = new TokenCalibration();

    for (let i = 0; i < 20; i++) c.observe('m', 1000, 1300);

    expect(c.factor('m')).toBeCloseTo(1.3, 2);
    expect(c.factor('other')).toBe(1);
  });

  it('never enlarges a budget when the estimate runs high', () => {
    const c = new TokenCalibration();

    c.observe('m', 1000, 700);

    expect(c.factor('m')).toBe(1);
  });

  it('ignores tiny prompts and moves gradually on outliers', () => {
    const c = new TokenCalibration();

    c.observe('m', 50, 500);
    c.observe('m', 1000, 1100);
    c.observe('m', 1000, 100_000);

    expect(c.toJSON()).toEqual({ m: 1.48 });
  });
});
