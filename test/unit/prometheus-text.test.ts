import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseExposition, sampleSum } from '../helpers/prometheus-text.js';

describe('the exposition parser of the metrics tests', () => {
  it("reads prom-client's output, escaped label values included", async () => {
    const registry = new Registry();
    const calls = new Counter({
      name: 'x_calls_total',
      help: 'calls',
      labelNames: ['model'],
      registers: [registry],
    });
    const latency = new Histogram({
      name: 'x_seconds',
      help: 'latency',
      labelNames: ['model'],
      buckets: [0.1, 1],
      registers: [registry],
    });
    calls.inc({ model: 'arn:aws:bedrock:us-east-1::foundation-model/a"b\\c' }, 2);
    calls.inc({ model: 'plain' });
    latency.observe({ model: 'plain' }, 0.5);
    latency.observe({ model: 'plain' }, 5);

    const families = parseExposition(await registry.metrics());

    expect(families.get('x_calls_total')?.type).toBe('counter');
    expect(
      sampleSum(families, 'x_calls_total', { model: 'arn:aws:bedrock:us-east-1::foundation-model/a"b\\c' }),
    ).toBe(2);
    expect(sampleSum(families, 'x_calls_total')).toBe(3);
    expect(sampleSum(families, 'x_seconds_bucket', { model: 'plain', le: '1' })).toBe(1);
    expect(sampleSum(families, 'x_seconds_count', { model: 'plain' })).toBe(2);
  });

  it('reads NaN and infinities in any case, as Prometheus does', () => {
    const families = parseExposition('# TYPE x gauge\nx{a="1"} Nan\nx{a="2"} +Inf\nx{a="3"} -inf\n');

    expect(families.get('x')?.samples.map((s) => s.value)).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
  });

  it.each([
    ['a sample without a TYPE', 'x 1\n'],
    ['an unquoted label value', '# TYPE x gauge\nx{a=1} 1\n'],
    ['a bad escape', '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ['a bad value', '# TYPE x gauge\nx 1,5\n'],
    ['a series twice', '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'],
    ['a negative counter', '# TYPE x_total counter\nx_total -1\n'],
    ['a family split in two', '# TYPE x gauge\n# TYPE y gauge\nx{a="1"} 1\ny 1\nx{a="2"} 1\n'],
    [
      'buckets that shrink',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n',
    ],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 1\n'],
    [
      'a count that is not the +Inf bucket',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 1\nh_sum 1\n',
    ],
    ['a TYPE after samples', '# TYPE x gauge\nx 1\n# TYPE x gauge\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });
});
