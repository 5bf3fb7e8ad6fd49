import { describe, expect, it } from 'vitest';
import { HAIKU, simCall } from '../../test/helpers/sim-call.js';
import { createRandom } from '../random.js';
import type { CallContext } from './control.js';
import { decideFault } from './fault-effects.js';
import { compileFault } from './fault-match.js';
import { type FaultRuleInput, FaultRuleSchema } from './fault-rule.js';

const TITAN = 'amazon.titan-text-express-v1';

const rules = (...inputs: FaultRuleInput[]) =>
  inputs.map((input, i) => compileFault(FaultRuleSchema.parse(input), `f${i}`, 'runtime'));

describe('decideFault', () => {
  it('answers every call 503 during an outage window, and normally outside it', () => {
    const faults = rules({ model: HAIKU, outage: true, fromMs: 10_000, toMs: 40_000 });
    const at = (ms: number) => decideFault(faults, simCall(), ms, 1, createRandom(1)).decision;

    expect(at(9_999)).toEqual({ type: 'none' });
    expect(at(10_000)).toEqual({
      type: 'error',
      error: { name: 'ServiceUnavailableException', message: 'Service Unavailable. Please try again later.' },
    });
    expect(at(39_999).type).toBe('error');
    expect(at(40_000)).toEqual({ type: 'none' });
  });

  it('takes a base-id outage to every route of that model but not to other models', () => {
    const faults = rules({ model: HAIKU, outage: true });
    const decide = (ctx: CallContext) => decideFault(faults, ctx, 0, 1, createRandom(1)).kind;

    expect(decide(simCall())).toBe('outage');
    expect(decide(simCall({ modelId: `us.${HAIKU}`, geo: 'us' }))).toBe('outage');
    expect(decide(simCall({ modelId: TITAN, baseId: TITAN }))).toBeUndefined();
  });

  it('limits a profile-id rule to that cross-region profile', () => {
    const faults = rules({ model: `us.${HAIKU}`, outage: true });
    const decide = (ctx: CallContext) => decideFault(faults, ctx, 0, 1, createRandom(1)).kind;

    expect(decide(simCall({ modelId: `us.${HAIKU}`, geo: 'us' }))).toBe('outage');
    expect(decide(simCall({ modelId: `eu.${HAIKU}`, geo: 'eu' }))).toBeUndefined();
    expect(decide(simCall())).toBeUndefined();
  });

  it('draws each error kind at its configured rate over many seeded calls', () => {
    const faults = rules({ model: '*', errorRate: { throttle: 0.1, internal: 0.05, modelError: 0.2 } });
    const random = createRandom(11);
    const counts: Record<string, number> = {};
    const n = 20_000;

    for (let i = 0; i < n; i++) {
      const kind = decideFault(faults, simCall(), 0, 1, random).kind ?? 'none';
      counts[kind] = (counts[kind] ?? 0) + 1;
    }

    expect((counts.throttle ?? 0) / n).toBeCloseTo(0.1, 1);
    expect(Math.abs((counts.internal ?? 0) / n - 0.05)).toBeLessThan(0.01);
    expect(Math.abs((counts.modelError ?? 0) / n - 0.2)).toBeLessThan(0.015);
    expect(Math.abs((counts.none ?? 0) / n - 0.65)).toBeLessThan(0.015);
  });

  it('answers each error kind with its Bedrock error', () => {
    const kinds = ['throttle', 'internal', 'unavailable', 'notReady', 'timeout', 'modelError'] as const;
    const names = kinds.map((kind) => {
      const [fault] = rules({ model: '*', errorRate: { [kind]: 1 } });
      const { decision } = decideFault([fault!], simCall(), 0, 1, createRandom(1));
      return decision.type === 'error' ? decision.error : undefined;
    });

    expect(names.map((e) => e?.name)).toEqual([
      'ThrottlingException',
      'InternalServerException',
      'ServiceUnavailableException',
      'ModelNotReadyException',
      'ModelTimeoutException',
      'ModelErrorException',
    ]);
    expect(names[5]?.extra).toEqual({ originalStatusCode: 500, resourceName: HAIKU });
  });

  it('makes the same draws for the same seed', () => {
    const faults = rules({ model: '*', errorRate: { internal: 0.3 } });
    const run = (seed: number) => {
      const random = createRandom(seed);
      return Array.from({ length: 200 }, () => decideFault(faults, simCall(), 0, 1, random).kind ?? '-').join(
        '',
      );
    };

    expect(run(5)).toBe(run(5));
    expect(run(5)).not.toBe(run(6));
  });

  it('hangs for the scaled afterMs, or forever without one', () => {
    const late = rules({ model: '*', hang: { afterMs: 30_000 } });
    const forever = rules({ model: '*', hang: {} });

    expect(decideFault(late, simCall(), 0, 10, createRandom(1)).decision).toEqual({
      type: 'hang',
      afterMs: 3_000,
    });
    expect(decideFault(forever, simCall(), 0, 10, createRandom(1)).decision).toEqual({ type: 'hang' });
  });

  it('drops the connection of generating calls at its rate, and leaves CountTokens alone', () => {
    const always = rules({ model: '*', reset: {} });
    const half = rules({ model: '*', reset: { probability: 0.5 } });
    const random = createRandom(3);
    let dropped = 0;
    for (let i = 0; i < 2_000; i++)
      if (decideFault(half, simCall(), 0, 1, random).kind === 'reset') dropped++;

    expect(decideFault(always, simCall(), 0, 1, createRandom(1))).toEqual({
      decision: { type: 'reset' },
      kind: 'reset',
    });
    expect(
      decideFault(always, simCall({ operation: 'count-tokens' }), 0, 1, createRandom(1)).kind,
    ).toBeUndefined();
    expect(dropped / 2_000).toBeCloseTo(0.5, 1);
  });

  it('filters prompts matching the content-filter pattern only', () => {
    const faults = rules({ model: '*', contentFilter: { pattern: '\\bforbidden-topic\\b' } });

    const hit = decideFault(
      faults,
      simCall({ promptText: 'Tell me about FORBIDDEN-TOPIC now' }),
      0,
      1,
      createRandom(1),
    );
    const miss = decideFault(
      faults,
      simCall({ promptText: 'Tell me about unforbidden-topics' }),
      0,
      1,
      createRandom(1),
    );

    expect(hit.decision).toEqual({ type: 'content_filter' });
    expect(miss.decision).toEqual({ type: 'none' });
  });

  it('breaks and slows streams but leaves whole answers alone', () => {
    const faults = rules(
      { model: '*', breakStream: { probability: 1, afterChunks: 3 } },
      { model: TITAN, slowStream: { factor: 4 } },
    );
    const stream = simCall({ operation: 'converse-stream' });

    const broken = decideFault(faults, stream, 0, 1, createRandom(1)).decision;
    const slowed = decideFault(
      faults.slice(1),
      simCall({ operation: 'invoke-stream', baseId: TITAN }),
      0,
      1,
      createRandom(1),
    );
    const whole = decideFault(faults, simCall({ operation: 'invoke' }), 0, 1, createRandom(1));

    expect(broken).toMatchObject({
      type: 'break_stream',
      afterChunks: 3,
      exception: { name: 'ModelStreamErrorException', extra: { originalStatusCode: 500 } },
    });
    expect(slowed.decision).toEqual({ type: 'slow_stream', factor: 4 });
    expect(whole.decision).toEqual({ type: 'none' });
  });

  it('can break a stream with the validation error Claude sends in-stream', () => {
    const faults = rules({ model: '*', breakStream: { afterChunks: 0, exception: 'validation' } });

    const broken = decideFault(
      faults,
      simCall({ operation: 'invoke-stream' }),
      0,
      1,
      createRandom(1),
    ).decision;

    expect(broken).toEqual({
      type: 'break_stream',
      afterChunks: 0,
      exception: { name: 'ValidationException', message: 'Input is too long for requested model.' },
    });
  });

  it('lets the first rule that fires decide', () => {
    const faults = rules({ model: HAIKU, errorRate: { timeout: 1 } }, { model: '*', outage: true });

    expect(decideFault(faults, simCall(), 0, 1, createRandom(1)).kind).toBe('timeout');
    expect(decideFault(faults, simCall({ baseId: TITAN, modelId: TITAN }), 0, 1, createRandom(1)).kind).toBe(
      'outage',
    );
  });

  it('puts an outage before the error rates of the same rule', () => {
    const faults = rules({ model: '*', outage: true, errorRate: { throttle: 1 } });

    expect(decideFault(faults, simCall(), 0, 1, createRandom(1)).kind).toBe('outage');
  });
});
