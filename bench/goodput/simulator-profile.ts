import type { FaultRuleInput, ProfileInput } from '../../src/simulator/index.js';
import { boundMs, CHAIN, type Plan, type ScenarioId } from './plan.js';

/** Far above what any run spends: the bench measures request quotas, not token quotas. */
const UNLIMITED_TPM = 1e12;

/**
 * The simulator's side of a scenario, in one place: per-model quotas, time scale and faults.
 * Fault times are simulated ms from the start of the run (the first enqueue), not from the
 * simulator's start: the harness shifts them when the run begins, so worker start-up time
 * never eats into an outage.
 *
 * The simulator's quota today is an rpm/tpm token bucket per simulated minute; with the
 * plan's time scale that is a one-second bucket at the plan's rates. When per-model
 * enforcement windows and bursts land, they are set here.
 */
export function simulatorProfile(scenario: ScenarioId, plan: Plan): ProfileInput {
  const [primary, fallback] = CHAIN;
  // rpm is per simulated minute, which lasts 60 / timeScale real seconds.
  const rpm = (perSecond: number): number => (perSecond * 60) / plan.timeScale;
  return {
    name: `goodput-${scenario}`,
    timeScale: plan.timeScale,
    seed: 9,
    jitter: 0.2,
    models: {
      [primary]: { rpm: rpm(plan.primaryPerSecond), tpm: UNLIMITED_TPM },
      [fallback]: { rpm: rpm(plan.fallbackPerSecond), tpm: UNLIMITED_TPM },
    },
    faults: faultsFor(scenario, plan),
  };
}

function faultsFor(scenario: ScenarioId, plan: Plan): FaultRuleInput[] {
  const [primary] = CHAIN;
  const bound = boundMs(plan);
  const simulated = (realMs: number): number => Math.round(realMs * plan.timeScale);
  if (scenario === 'S2') {
    return [{ model: primary, outage: true, fromMs: simulated(bound / 3), toMs: simulated((2 * bound) / 3) }];
  }
  if (scenario === 'S3') {
    // Down for the second half of every quarter of the bound, for as long as a run may last.
    const periodMs = bound / 4;
    const periods = Math.ceil((plan.deadlineBounds * bound) / periodMs);
    return Array.from({ length: periods }, (_, k) => ({
      model: primary,
      outage: true,
      fromMs: simulated(k * periodMs + periodMs / 2),
      toMs: simulated((k + 1) * periodMs),
    }));
  }
  return [];
}
