import { describe, expect, it } from 'vitest';
import { HAIKU, simCall } from '../../test/helpers/sim-call.js';
import { ManualClock } from '../clock.js';
import { ModelCatalog } from '../models/catalog.js';
import { createControl } from './behaviour.js';
import { type ProfileInput, ProfileSchema } from './profiles.js';

function setup(profile: ProfileInput = {}, timeScale = 1) {
  const clock = new ManualClock(1_000);
  const sim = createControl({
    profile: ProfileSchema.parse(profile),
    clock,
    timeScale,
    seed: 1,
  });
  return { clock, sim };
}

describe('createControl', () => {
  it('answers catalog facts with profile overrides, and undefined for unknown models', () => {
    const { sim } = setup({ models: { 'claude-3-haiku': { contextWindow: 1_000 } } });

    expect(sim.model(HAIKU)).toEqual({
      available: true,
      enabled: true,
      contextWindow: 1_000,
      maxOutputTokens: 4_096,
      firstTokenMs: 350,
      tokensPerSecond: 120,
    });
    expect(sim.model('acme.unknown-v1')).toBeUndefined();
    expect(sim.model('anthropic.claude-9-v1:0')).toBeUndefined();
  });

  it('knows a new model of a known family once the profile lists it', () => {
    const { sim } = setup({ models: { 'anthropic.claude-9-v1:0': { rpm: 5 } } });

    expect(sim.model('anthropic.claude-9-v1:0')?.contextWindow).toBe(200_000);
    expect(sim.admin.model('anthropic.claude-9-v1:0')?.quota.rpm).toBe(5);
  });

  it('refuses a profile that names a model of no known family', () => {
    expect(() => setup({ models: { 'acme.x': { rpm: 1 } } })).toThrow(/models\["acme.x"\]/);
  });

  it('applies "*" to every model and lets a specific entry win', () => {
    const { sim } = setup({ models: { '*': { rpm: 7 }, 'titan-express': { rpm: 3 } } });

    expect(sim.admin.model(HAIKU)?.quota).toEqual({ rpm: 7, tpm: 2_000_000 });
    expect(sim.admin.model('amazon.titan-text-express-v1')?.quota.rpm).toBe(3);
    expect(sim.admin.model(HAIKU)?.profileQuota.rpm).toBe(14);
  });

  it('throttles with quotas from the profile and counts what it admitted', () => {
    const { sim } = setup({ models: { [HAIKU]: { rpm: 3 } } });

    const answers = Array.from({ length: 5 }, () => sim.admit(simCall()).ok);

    expect(answers).toEqual([true, true, true, false, false]);
    expect(sim.admin.stats().models[HAIKU]?.admittedLastMinute).toBe(3);
  });

  it('runs fault windows on simulated time', () => {
    const { clock, sim } = setup(
      { faults: [{ model: HAIKU, outage: true, fromMs: 10_000, toMs: 40_000 }] },
      10,
    );

    const before = sim.fault(simCall()).type;
    clock.advance(1_000);
    const during = sim.fault(simCall()).type;
    clock.advance(3_000);
    const after = sim.fault(simCall()).type;

    expect([before, during, after]).toEqual(['none', 'error', 'none']);
    expect(sim.admin.stats().models[HAIKU]?.faultsByKind).toEqual({ outage: 1 });
  });

  it('lets a run-time fault decide before the profile faults, until it is removed', () => {
    const { sim } = setup({ faults: [{ model: '*', errorRate: { internal: 1 } }] });

    const id = sim.admin.addFault({ model: 'claude-3-haiku', errorRate: { timeout: 1 } });
    const withRule = sim.fault(simCall());
    sim.admin.removeFault(id);
    const without = sim.fault(simCall());

    expect(withRule.type === 'error' && withRule.error.name).toBe('ModelTimeoutException');
    expect(without.type === 'error' && without.error.name).toBe('InternalServerException');
    expect(sim.admin.faults().map((f) => f.source)).toEqual(['profile']);
  });

  it('refuses an invalid run-time fault naming the field', () => {
    const { sim } = setup();

    expect(() => sim.admin.addFault({ model: '*', hang: { probability: -1 } })).toThrow(/hang\.probability/);
  });

  it('disables a model at run time and restores it on reset', () => {
    const { sim } = setup();

    sim.admin.setModel('claude-3-haiku', { enabled: false });
    const disabled = sim.model(HAIKU)?.enabled;
    sim.admin.reset();

    expect(disabled).toBe(false);
    expect(sim.model(HAIKU)?.enabled).toBe(true);
  });

  it('marks a model not offered in the region from the profile', () => {
    const { sim } = setup({ models: { 'titan-lite': { available: false } } });

    expect(sim.model('amazon.titan-text-lite-v1')?.available).toBe(false);
    expect(sim.model(HAIKU)?.available).toBe(true);
  });

  it('refuses run-time changes to a model it cannot know', () => {
    const { sim } = setup();

    expect(() => sim.admin.setModel('acme.x', { rpm: 1 })).toThrow(/unknown model acme\.x/);
  });

  it('restores profile faults and quotas on reset, and clears run-time faults', () => {
    const { sim } = setup({ models: { [HAIKU]: { rpm: 1 } }, faults: [{ model: '*', outage: true }] });
    sim.admit(simCall());
    sim.admin.clearFaults();
    sim.admin.addFault({ model: '*', errorRate: { throttle: 1 } });

    sim.admin.reset();

    expect(sim.admin.faults().map((f) => f.id)).toEqual(['p1']);
    expect(sim.admit(simCall()).ok).toBe(true);
    expect(sim.admin.stats().total.calls).toBe(0);
  });

  it('gives the same latencies and fault draws for the same seed', () => {
    const run = () => {
      const sim = createControl({
        profile: ProfileSchema.parse({ faults: [{ model: '*', errorRate: { internal: 0.5 } }] }),
        clock: new ManualClock(0),
        seed: 42,
        catalog: new ModelCatalog(),
      });
      return Array.from({ length: 50 }, () => [
        sim.fault(simCall()).type,
        sim.latency(simCall(), 10).firstTokenMs,
      ]);
    };

    expect(run()).toEqual(run());
  });

  it('answers with zero latency when the profile says so', () => {
    const { sim } = setup({ zeroLatency: true });

    expect(sim.latency(simCall(), 100)).toEqual({ firstTokenMs: 0, perTokenMs: 0 });
  });

  it('refuses a time scale that is not a positive finite number', () => {
    expect(() => createControl({ timeScale: 0 })).toThrow(/timeScale/);
    expect(() => createControl({ timeScale: Number.POSITIVE_INFINITY })).toThrow(/timeScale/);
  });
});
