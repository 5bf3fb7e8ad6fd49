import { describe, expect, it } from 'vitest';
import { SimStats } from './stats.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

function setup(timeScale = 1) {
  const clock = { now: 0 };
  const stats = new SimStats({ clock: () => clock.now, timeScale, startedAt: 0 });
  return { clock, stats };
}

describe('SimStats', () => {
  it('counts outcomes, fault kinds and tokens per model and in total', () => {
    const { stats } = setup();

    stats.record(HAIKU, 'ok', { inputTokens: 10, outputTokens: 20 });
    stats.record(HAIKU, 'throttled', { inputTokens: 0, outputTokens: 0 });
    stats.fault(HAIKU, 'outage');
    stats.record(HAIKU, 'fault', { inputTokens: 0, outputTokens: 0 });
    stats.record(`us.${HAIKU}`, 'client_error', { inputTokens: 0, outputTokens: 0 });

    const snap = stats.snapshot();
    expect(snap.models[HAIKU]).toMatchObject({
      calls: 3,
      ok: 1,
      throttled: 1,
      faults: 1,
      faultsByKind: { outage: 1 },
      inputTokens: 10,
      outputTokens: 20,
    });
    expect(snap.models[`us.${HAIKU}`]?.clientErrors).toBe(1);
    expect(snap.total).toMatchObject({ calls: 4, ok: 1, faultsByKind: { outage: 1 } });
  });

  it('reads the admitted count over the last simulated minute', () => {
    const { clock, stats } = setup(6);
    for (let t = 0; t < 20_000; t += 100) {
      clock.now = t;
      stats.admitted(HAIKU);
    }

    const lastMinute = stats.snapshot().models[HAIKU]?.admittedLastMinute;
    const lastHalfMinute = stats.admittedWithin(HAIKU, 30_000);

    expect(lastMinute).toBe(100);
    expect(lastHalfMinute).toBe(50);
  });

  it('keeps admitted times only for two simulated minutes', () => {
    const { clock, stats } = setup(60);
    for (let t = 0; t < 10_000; t++) {
      clock.now = t;
      stats.admitted(HAIKU);
    }

    expect(stats.admittedWithin(HAIKU, 10 * 60_000)).toBeLessThanOrEqual(2_001);
  });

  it('starts from zero after a reset and returns plain JSON', () => {
    const { clock, stats } = setup();
    stats.record(HAIKU, 'ok', { inputTokens: 1, outputTokens: 1 });
    clock.now = 5_000;

    stats.reset();
    clock.now = 6_000;

    const snap = stats.snapshot();
    expect(snap.models).toEqual({});
    expect(snap).toMatchObject({ uptimeMs: 6_000, sinceResetMs: 1_000, simulatedMs: 6_000 });
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });
});
