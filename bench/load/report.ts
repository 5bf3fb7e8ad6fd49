import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { type LoadPlan, pacedJobsOf, SIMULATOR_PROFILE } from './plan.js';
import type { DrainResult, PacedResult } from './run.js';
import type { SystemName } from './systems.js';

/** Everything the table shows of one system. */
export interface SystemFigures {
  name: SystemName;
  drain: DrainResult;
  paced: PacedResult;
  /** Peak RSS (VmHWM) of each worker process over the whole run, MiB. */
  peakRssMb: number[];
}

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
export const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Date, machine and plan, so a pasted table says where it came from. */
export function header(plan: LoadPlan, startLoad: string, now = new Date()): string[] {
  const cpu = cpus();
  return [
    `load bench  ${now.toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `machine: ${platform()} ${arch()}, ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}), ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average at start ${startLoad}`,
    `plan: ${plan.jobs} jobs drained from a full queue, then ${pacedJobsOf(plan)} jobs paced at ` +
      `${Math.round(plan.pacedLoad * 100)} % of the slower drain in ${plan.pacedRounds} rounds per system, alternating; ${plan.processes} worker processes per system, ` +
      `${plan.concurrency} jobs in flight each; simulator profile "${SIMULATOR_PROFILE}" (answers at once, ` +
      `no quota); ${plan.modelId}, InvokeModel, max ${plan.maxTokens} output tokens; own redis-server`,
  ];
}

/** The value at quantile `q` (nearest rank) of `values`. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Row {
  label: string;
  value: (s: SystemFigures) => number;
  digits: number;
}

const perJob = (ms: number, s: SystemFigures): number => ms / Math.max(1, s.drain.finished.completed);

const ROWS: Row[] = [
  { label: 'throughput, jobs/s', value: (s) => s.drain.throughput, digits: 0 },
  { label: 'latency p50, ms', value: (s) => percentile(s.paced.latenciesMs, 0.5), digits: 0 },
  { label: 'latency p95, ms', value: (s) => percentile(s.paced.latenciesMs, 0.95), digits: 0 },
  { label: 'latency p99, ms', value: (s) => percentile(s.paced.latenciesMs, 0.99), digits: 0 },
  { label: 'peak RSS per worker, MB', value: (s) => Math.max(...s.peakRssMb), digits: 0 },
  {
    label: 'Redis per 1k queued jobs, KB',
    value: (s) => s.drain.queuedBytes / 1024 / (s.drain.finished.completed / 1000),
    digits: 0,
  },
  { label: 'worker CPU per job, ms', value: (s) => perJob(s.drain.cpuMs.workers, s), digits: 2 },
  { label: 'Redis commands per job', value: (s) => perJob(s.drain.redisCommands, s), digits: 1 },
  { label: 'Redis CPU per job, ms', value: (s) => perJob(s.drain.cpuMs.redis, s), digits: 2 },
  { label: 'simulator CPU per job, ms', value: (s) => perJob(s.drain.cpuMs.simulator, s), digits: 2 },
  { label: 'harness CPU per job, ms', value: (s) => perJob(s.drain.cpuMs.harness, s), digits: 2 },
  {
    label: 'bulk enqueue, jobs/s',
    value: (s) => s.drain.finished.completed / (s.drain.enqueueMs / 1000),
    digits: 0,
  },
];

const WIDTHS = [30, 10, 13, 8];

function line(cells: readonly string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join('  ');
}

/** One row per figure: the baseline, bedrock-jobs, and bedrock-jobs as a ratio to the baseline. */
export function table(baseline: SystemFigures, bedrockJobs: SystemFigures): string[] {
  const out = [line(['', 'baseline', 'bedrock-jobs', 'ratio']), line(WIDTHS.map((w) => '-'.repeat(w)))];
  for (const row of ROWS) {
    const a = row.value(baseline);
    const b = row.value(bedrockJobs);
    out.push(line([row.label, a.toFixed(row.digits), b.toFixed(row.digits), (b / a).toFixed(2)]));
  }
  return out;
}

/** What the table's figures rest on: failures, offered rate, each process's peak. */
export function details(systems: readonly SystemFigures[]): string[] {
  return systems.map((s) => {
    const failed = s.drain.finished.failed + s.paced.finished.failed;
    const rss = s.peakRssMb.map((m) => m.toFixed(0)).join(', ');
    return (
      `${s.name}: failed ${failed}; drained in ${(s.drain.finished.completed / s.drain.throughput).toFixed(1)} s; ` +
      `paced at ${s.paced.rate.toFixed(0)} jobs/s; peak RSS of each worker ${rss} MB`
    );
  });
}

/** How to read the table, under it. */
export const LEGEND = [
  'throughput: a full queue drained, from the resume to the last result; latency: from the enqueue call',
  'to the result written, in the paced phase; RSS: VmHWM of each worker process over the run (the largest);',
  'Redis per 1k: INFO used_memory after minus before the bulk enqueue, no worker running; CPU: /proc and',
  'INFO cpu over the drain (harness: the process that enqueues and polls); Redis commands: INFO stats over',
  'the drain, those run inside Lua scripts included; ratio: bedrock-jobs / baseline.',
];
