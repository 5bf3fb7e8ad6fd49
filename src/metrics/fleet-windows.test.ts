import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MODEL_ERROR_KINDS } from '../models/errors.js';
import {
  decodeSeriesField,
  decodeStatField,
  encodeStatField,
  type StatField,
  seriesField,
  windowStart,
} from './fleet-windows.js';

const anyField: fc.Arbitrary<StatField> = fc.oneof(
  fc.record({
    t: fc.constant('call' as const),
    model: fc.string({ minLength: 1 }),
    outcome: fc.constantFrom('ok' as const, ...MODEL_ERROR_KINDS),
  }),
  fc.record({
    t: fc.constant('refused' as const),
    model: fc.string({ minLength: 1 }),
    reason: fc.constantFrom('circuit_open' as const, 'rate_limited' as const),
  }),
  fc.record({ t: fc.constant('latency' as const), model: fc.string({ minLength: 1 }), bucket: fc.string() }),
  fc.record({
    t: fc.constant('fallback' as const),
    from: fc.string({ minLength: 1 }),
    to: fc.string({ minLength: 1 }),
  }),
);

describe('fleet window fields', () => {
  it('decode to what was encoded, whatever characters a model id holds', () => {
    fc.assert(
      fc.property(anyField, (field) => {
        expect(decodeStatField(encodeStatField(field))).toEqual(field);
      }),
    );
  });

  it('ignore fields this version does not know', () => {
    expect(decodeStatField('["z","a","b"]')).toBeUndefined();
    expect(decodeStatField('["c","nonsense","m"]')).toBeUndefined();
    expect(decodeStatField('not json')).toBeUndefined();
    expect(decodeSeriesField('x:12')).toBeUndefined();
  });

  it('name the counter and second of a series field', () => {
    expect(decodeSeriesField(seriesField('callErrors', 1_735_732_805))).toEqual({
      counter: 'callErrors',
      second: 1_735_732_805,
    });
  });

  it('cut time into 10 s windows', () => {
    expect(windowStart(1_735_732_809_999)).toBe(1_735_732_800);
    expect(windowStart(1_735_732_810_000)).toBe(1_735_732_810);
  });
});
