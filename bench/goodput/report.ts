import { arch, cpus, platform, totalmem } from 'node:os';
import { LimiterSettingsSchema } from '../../src/config-limiter.js';
import {
  boundMs,
  CHAIN,
  chainRate,
  idealMs,
  type Plan,
  pacedIdealMs,
  SCENARIO_TITLES,
  SCENARIOS,
  type ScenarioId,
} from './plan.js';
import type { RunResult } from './run.js';
import { faultsFor } from './simulator-profile.js';

/** The burst bedrock-jobs runs with in the bench: its default. */
const BURST_SECONDS = LimiterSettingsSchema.parse({}).burstSeconds;

/** time/bound of a system that paces as bedrock-jobs does and loses no slot to outages. */
function pacedIdeal(scenario: ScenarioId, plan: Plan): number {
  const outages = faultsFor(scenario, plan).map((f) => ({ fromMs: f.fromMs ?? 0, toMs: f.toMs ?? 0 }));
  return pacedIdealMs(plan, outages, BURST_SECONDS) / boundMs(plan);
}

/** Completed jobs per second as a fraction of what the chain's quota admits: 1.0 uses every slot. */
export function goodput(r: RunResult, plan: Plan): number {
  return r.completed / (r.elapsedMs / 1000) / chainRate(plan);
}

const short = (id: string): string => id.replace(/^[a-z]+\./, '').replace(/-v\d.*$/, '');

/** Date, machine and plan, so a pasted table says where it came from. */
export function header(plan: Plan, now = new Date()): string[] {
  const cpu = cpus();
  const [a, b] = CHAIN;
  return [
    `goodput bench  ${now.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `machine: ${platform()} ${arch()}, ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}), ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`,
    `plan: ${plan.jobs} jobs per run; chain ${short(a)} -> ${short(b)}; simulator quotas ` +
      `${plan.primaryPerSecond} + ${plan.fallbackPerSecond} req/s (bound ${(boundMs(plan) / 1000).toFixed(1)} s); ` +
      `jobs arrive at ${plan.demandFactor}x that; ${plan.concurrency} jobs in flight per worker process; ` +
      `quotas enforced per ${plan.quotaWindowSeconds} s window; runs cut at ${plan.deadlineBounds}x the bound`,
    `a system that used every admitted slot would score time/bound ${(idealMs(plan) / boundMs(plan)).toFixed(2)} ` +
      '(the quota buckets start full)',
  ];
}

const COLUMNS = ['scenario', 'system', 'time/bound', 'goodput', '429/job', 'down calls', 'failed', 'cost $'];
const WIDTHS = [8, 13, 10, 7, 7, 10, 6, 8];

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join('  ');
}

/** One line per run, grouped by scenario in table order. */
export function table(results: readonly RunResult[], plan: Plan): string[] {
  const lines = [row(COLUMNS), row(WIDTHS.map((w) => '-'.repeat(w)))];
  for (const scenario of SCENARIOS) {
    const rows = results.filter((r) => r.scenario === scenario);
    rows.forEach((r, i) => {
      const perJob = r.completed > 0 ? (r.throttled / r.completed).toFixed(2) : 'n/a';
      lines.push(
        row([
          i === 0 ? scenario : '',
          r.system,
          `${(r.elapsedMs / boundMs(plan)).toFixed(2)}${r.cut ? '+' : ''}`,
          goodput(r, plan).toFixed(2),
          perJob,
          String(r.downCalls),
          String(r.failed),
          r.costUsd.toFixed(4),
        ]),
      );
    });
  }
  return lines;
}

/** bedrock-jobs against the baseline with the highest goodput, per scenario. */
export function ratios(results: readonly RunResult[], plan: Plan): string[] {
  const lines: string[] = [];
  for (const scenario of SCENARIOS) {
    const rows = results.filter((r) => r.scenario === scenario);
    const ours = rows.find((r) => r.system === 'bedrock-jobs');
    const baselines = rows.filter((r) => r.system !== 'bedrock-jobs');
    if (!ours || baselines.length === 0) continue;
    const best = baselines.reduce((x, y) => (goodput(y, plan) > goodput(x, plan) ? y : x));
    const g = goodput(ours, plan);
    const gb = goodput(best, plan);
    const perJob = (r: RunResult): string =>
      r.completed > 0 ? (r.throttled / r.completed).toFixed(2) : 'n/a';
    lines.push(
      `${scenario.padEnd(4)} goodput ${g.toFixed(2)} vs ${gb.toFixed(2)} (${best.system}) = ` +
        `${gb > 0 ? (g / gb).toFixed(2) : 'inf'}x; 429/job ${perJob(ours)} vs ${perJob(best)}; ` +
        `failed ${ours.failed} vs ${best.failed}; down calls ${ours.downCalls} vs ${best.downCalls}`,
    );
  }
  return lines;
}

/** What each scenario and column means, printed under the table. */
export function legend(plan: Plan): string[] {
  return [
    ...Object.entries(SCENARIO_TITLES).map(
      ([id, title]) =>
        `${id.padEnd(4)} ${title}; paced ideal ${pacedIdeal(id as ScenarioId, plan).toFixed(2)}`,
    ),
    'time/bound: first enqueue to last job finished, / (jobs / summed chain quota); "+" = cut at the deadline',
    `paced ideal: time/bound of a system that spaces calls evenly, ${BURST_SECONDS} s of quota ahead at most ` +
      '(as bedrock-jobs by default), and loses no slot to an outage',
    'goodput: completed jobs per second / summed chain quota (1.00 = every admitted slot became a result)',
    '429/job: calls the simulator answered 429 per completed job; down calls: calls to a model during its outage',
    'failed: jobs that failed or were unfinished at the deadline; cost: served tokens at catalog prices',
  ];
}
