import type { FaultRuleInput, ProfileInput } from '../../src/simulator/index.js';
import { boundMs, CHAIN, type Plan, type ScenarioId } from './plan.js';

/** Far above what any run spends: the bench measures request quotas, not token quotas. */
const UNLIMITED_TPM = 1e12;

/**
 * The simulator's side of a scenario, in one place: per-model quotas, their enforcement
 * window, latency and faults. Fault times are ms from the start of the run (the first
 * enqueue), not from the simulator's start: the harness shifts them when the run begins, so
 * worker start-up time never eats into an outage.
 */
export function simulatorProfile(scenario: ScenarioId, plan: Plan): ProfileInput {
  const [primary, fallback] = CHAIN;
  const model = (perSecond: number) => ({
    rpm: perSecond * 60,
    tpm: UNLIMITED_TPM,
    quotaWindowSeconds: plan.quotaWindowSeconds,
    quotaBurst: 1,
    firstTokenMs: plan.firstTokenMs,
    tokensPerSecond: plan.tokensPerSecond,
  });
  return {
    name: `goodput-${scenario}`,
    seed: 9,
    jitter: 0.2,
    models: { [primary]: model(plan.primaryPerSecond), [fallback]: model(plan.fallbackPerSecond) },
    faults: faultsFor(scenario, plan),
  };
}

/** The scenario's outages of the primary, in ms from the first enqueue. */
export function faultsFor(scenario: ScenarioId, plan: Plan): FaultRuleInput[] {
  const [primary] = CHAIN;
  const bound = boundMs(plan);
  if (scenario === 'S2') {
    return [
      { model: primary, outage: true, fromMs: Math.round(bound / 3), toMs: Math.round((2 * bound) / 3) },
    ];
  }
  if (scenario === 'S3') {
    // Down for the second half of every quarter of the bound, for as long as a run may last.
    const periodMs = bound / 4;
    const periods = Math.ceil((plan.deadlineBounds * bound) / periodMs);
    return Array.from({ length: periods }, (_, k) => ({
      model: primary,
      outage: true,
      fromMs: Math.round(k * periodMs + periodMs / 2),
      toMs: Math.round((k + 1) * periodMs),
    }));
  }
  return [];
}
