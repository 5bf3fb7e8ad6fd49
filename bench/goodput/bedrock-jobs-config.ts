import type { ConfigInput } from '../../src/config.js';
import { SECOND } from '../../src/units.js';
import { CHAIN, type Plan, type ScenarioId } from './plan.js';

/** The chain's name in the config; jobs name it. */
export const CHAIN_NAME = 'goodput';

/** Where a run's bedrock-jobs talks to. */
export interface RunTargets {
  redisUrl: string;
  /** A fresh key prefix per run, so runs never share limiter buckets or results. */
  prefix: string;
  /** The simulator. */
  endpoint: string;
}

/**
 * bedrock-jobs' side of a scenario, in one place: the config every worker process of the run
 * loads. Quotas are the simulator's, in real requests per minute, except in S1u where none
 * are configured (the limiter then uses the catalog's defaults, as an unconfigured install
 * does). Everything else stays at its default, but for the breaker's probe delay.
 */
export function bedrockJobsConfig(scenario: ScenarioId, plan: Plan, targets: RunTargets): ConfigInput {
  const [primary, fallback] = CHAIN;
  const quotas: NonNullable<ConfigInput['models']> =
    scenario === 'S1u'
      ? {}
      : {
          // The per-minute quota, as Bedrock's quota page states it; nothing about how the
          // simulator enforces it.
          [primary]: { rpm: plan.primaryPerSecond * 60, tpm: 1e12 },
          [fallback]: { rpm: plan.fallbackPerSecond * 60, tpm: 1e12 },
        };
  return {
    redisUrl: targets.redisUrl,
    prefix: targets.prefix,
    endpoint: targets.endpoint,
    logLevel: 'silent',
    chains: { [CHAIN_NAME]: [...CHAIN] },
    models: quotas,
    // Runs last seconds, not hours, and outages a fraction of a second: the breaker probes a
    // dead model after 200 ms rather than the default 30 s, as an operator sets it to the
    // outages they see.
    policy: { breaker: { halfOpenAfterMs: SECOND / 5 } },
    worker: { concurrency: plan.concurrency },
  };
}
