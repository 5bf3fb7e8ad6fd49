import { SECOND } from '../../src/units.js';

/**
 * The two-model chain every system runs: primary A, then fallback B. Both take on-demand calls
 * by their base id in us-east-1 (Llama 3.1 70B there is profile-only; Llama 3 70B has the same
 * latency profile in the simulator). The figures do not depend on the models' lifecycle.
 */
export const CHAIN = ['anthropic.claude-3-haiku-20240307-v1:0', 'meta.llama3-70b-instruct-v1:0'] as const;

/** The systems in the table, bedrock-jobs first. */
export const SYSTEMS = ['bedrock-jobs', 'sdk-standard', 'sdk-adaptive', 'langchain', 'vercel-ai'] as const;
/** One of {@link SYSTEMS}. */
export type SystemName = (typeof SYSTEMS)[number];

/** The scenarios, in the order the table prints them. */
export const SCENARIOS = ['S1', 'S1u', 'S2', 'S3', 'S4'] as const;
/** One of {@link SCENARIOS}. */
export type ScenarioId = (typeof SCENARIOS)[number];

/** What each scenario is, in a line of the printed table's legend. */
export const SCENARIO_TITLES: Readonly<Record<ScenarioId, string>> = {
  S1: 'demand 3x the chain quota, quotas configured in bedrock-jobs',
  S1u: 'as S1, no quotas configured in bedrock-jobs',
  S2: 'as S1, primary down for the middle third of the bound',
  S3: 'as S1, primary flapping (down half of every quarter of the bound)',
  S4: 'as S1, four worker processes per system',
};

/** Worker processes per system in a scenario. */
export const processesIn = (scenario: ScenarioId): number => (scenario === 'S4' ? 4 : 1);

/**
 * The size of every run. The numbers are chosen so that 25 runs (5 systems × 5 scenarios)
 * finish in well under five minutes on two cores: the bound is a few seconds per run.
 */
export interface Plan {
  jobs: number;
  /** Requests per real second the simulator admits for each chain model. */
  primaryPerSecond: number;
  fallbackPerSecond: number;
  /** Jobs arrive at this multiple of the chain's summed quota. */
  demandFactor: number;
  /**
   * The simulator enforces each quota over windows this many seconds long (Bedrock documents
   * per-minute quotas but not how it enforces them; 1 is the strictest: what exceeds a
   * second's share is refused). bedrock-jobs is told the per-minute quota only.
   */
  quotaWindowSeconds: number;
  /** Time to the first token and output speed of every simulated call. */
  firstTokenMs: number;
  tokensPerSecond: number;
  /** Jobs in flight per worker process, the same for every system. */
  concurrency: number;
  /** Output token budget of every call. */
  maxTokens: number;
  /** A run that has not finished after this many bounds is cut; unfinished jobs count as failed. */
  deadlineBounds: number;
}

/** The plan the table is printed for; `--jobs` changes the job count only. */
export const DEFAULT_PLAN: Plan = {
  jobs: 100,
  primaryPerSecond: 20,
  fallbackPerSecond: 10,
  demandFactor: 3,
  quotaWindowSeconds: 1,
  firstTokenMs: 20,
  tokensPerSecond: 2000,
  concurrency: 16,
  maxTokens: 64,
  deadlineBounds: 4,
};

/** Requests per real second the whole chain admits. */
export const chainRate = (plan: Plan): number => plan.primaryPerSecond + plan.fallbackPerSecond;

/** The quota bound in ms: no system can finish the jobs faster than the chain admits them. */
export const boundMs = (plan: Plan): number => (plan.jobs / chainRate(plan)) * SECOND;

/**
 * The best time any system could reach, in ms: the simulator's buckets start full (one
 * window of quota), so that many jobs pass at once and the rest at the chain's rate. The
 * table prints it as a fraction of the bound.
 */
export const idealMs = (plan: Plan): number => {
  const burst = chainRate(plan) * plan.quotaWindowSeconds;
  return (Math.max(0, plan.jobs - burst) / chainRate(plan)) * SECOND;
};

/** A window in which the primary model is down, in ms from the first enqueue. */
export interface Outage {
  fromMs: number;
  toMs: number;
}

/**
 * The best time a system that paces each model evenly, ahead of the pace by at most
 * `burstSeconds` of its quota, could reach, in ms: jobs arrive at the plan's demand, each model
 * admits its rate while it is up plus what its burst has saved (a model saves while it is down
 * or idle, up to the burst), and no slot is lost to detecting an outage or its end. Stepped in 1 ms.
 */
export function pacedIdealMs(plan: Plan, outages: readonly Outage[], burstSeconds = 0): number {
  const arrivalsPerMs = (plan.demandFactor * chainRate(plan)) / SECOND;
  const models = [
    { perMs: plan.primaryPerSecond / SECOND, canFail: true },
    { perMs: plan.fallbackPerSecond / SECOND, canFail: false },
  ].map((m) => ({ ...m, saved: m.perMs * burstSeconds * SECOND, cap: m.perMs * burstSeconds * SECOND }));
  let arrived = 0;
  let served = 0;
  for (let t = 0; ; t++) {
    arrived = Math.min(plan.jobs, arrived + arrivalsPerMs);
    const down = outages.some((o) => t >= o.fromMs && t < o.toMs);
    for (const m of models) {
      const available = m.saved + m.perMs;
      const use = m.canFail && down ? 0 : Math.min(arrived - served, available);
      served += use;
      m.saved = Math.min(m.cap, available - use);
    }
    if (served >= plan.jobs - 1e-9) return t + 1;
  }
}
