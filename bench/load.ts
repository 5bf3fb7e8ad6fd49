/**
 * The fleet-sized load bench: N jobs through four worker processes of bedrock-jobs and, in the
 * same run, the same jobs through a naive baseline (four processes of a plain BullMQ worker
 * calling InvokeModel through the AWS SDK and writing each answer to a Redis hash), both
 * against the simulator with a profile that answers at once and has no quota, so the queue and
 * the workers are measured, not the model. Runs its own redis-server, so memory figures hold
 * only the bench's keys; nothing is left behind. Linux (reads /proc). See bench/README.md.
 *
 *   npm run bench:load [-- --jobs 100000] [--paced-jobs N] [--paced-load 0.5] [--processes 4]
 *                      [--concurrency 16]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startOwnRedis } from '../test/helpers/redis-server.js';
import type { Fleet } from './load/fleet.js';
import { LoadPlanSchema, pacedJobsOf, SIMULATOR_PROFILE } from './load/plan.js';
import { details, header, LEGEND, loadAverage, type SystemFigures, table } from './load/report.js';
import { type DrainResult, drain, type PacedResult, pacedRound } from './load/run.js';
import { startSimulatorProcess } from './load/simulator-process.js';
import { baseline, bedrockJobs, type LoadSystem, SYSTEM_NAMES, type SystemName } from './load/systems.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    'paced-jobs': { type: 'string' },
    'paced-load': { type: 'string' },
    'paced-rounds': { type: 'string' },
    processes: { type: 'string' },
    concurrency: { type: 'string' },
  },
});
const number = (raw: string | undefined): number | undefined => (raw === undefined ? undefined : Number(raw));
const plan = LoadPlanSchema.parse({
  jobs: number(values.jobs),
  pacedJobs: number(values['paced-jobs']),
  pacedLoad: number(values['paced-load']),
  pacedRounds: number(values['paced-rounds']),
  processes: number(values.processes),
  concurrency: number(values.concurrency),
});

const startedAt = new Date();
const startLoad = loadAverage();
const wallStart = performance.now();
const progress = (message: string): void => {
  console.error(`[${((performance.now() - wallStart) / 1000).toFixed(0).padStart(4)} s] ${message}`);
};

/** What the run started, stopped in reverse order at the end, on an error or an interrupt. */
const closers: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'bj-bench-load-'));
closers.push(async () => rmSync(dir, { recursive: true, force: true }));
const fleets: Fleet[] = [];
try {
  const redisServer = await startOwnRedis();
  closers.push(() => redisServer.close());
  const sim = await startSimulatorProcess(SIMULATOR_PROFILE);
  closers.push(() => sim.stop());
  const admin = new Redis(redisServer.url);
  closers.push(() => admin.quit());
  const run = randomUUID().slice(0, 8);
  const targets = { redisUrl: redisServer.url, endpoint: sim.url, dir };
  const systems: Record<SystemName, LoadSystem> = {
    baseline: baseline(plan, targets, `{load-base-${run}}`),
    'bedrock-jobs': bedrockJobs(plan, targets, `{load-bj-${run}}`),
  };
  closers.push(...Object.values(systems).map((system) => () => system.close()));
  // Last in, first stopped: the workers go before their Redis.
  closers.push(() => Promise.all(fleets.map((f) => f.stop())));
  const drains = {} as Record<SystemName, DrainResult>;
  for (const name of SYSTEM_NAMES) {
    progress(`${name}: enqueueing ${plan.jobs} jobs, then draining them with ${plan.processes} processes`);
    const d = await drain(systems[name], plan, { redis: admin, simulatorPid: sim.pid }, fleets);
    drains[name] = d;
    progress(`${name}: ${d.throughput.toFixed(0)} jobs/s, ${d.finished.failed} failed`);
  }
  const rate = plan.pacedLoad * Math.min(...SYSTEM_NAMES.map((n) => drains[n].throughput));
  const pacedResults: Record<SystemName, PacedResult> = {
    baseline: { latenciesMs: [], finished: { completed: 0, failed: 0 }, rate },
    'bedrock-jobs': { latenciesMs: [], finished: { completed: 0, failed: 0 }, rate },
  };
  const perRound = Math.ceil(pacedJobsOf(plan) / plan.pacedRounds);
  for (let round = 0; round < plan.pacedRounds; round++) {
    for (const name of SYSTEM_NAMES) {
      progress(
        `${name}: paced round ${round + 1} of ${plan.pacedRounds}, ${perRound} jobs at ${rate.toFixed(0)} jobs/s`,
      );
      const r = await pacedRound(systems[name], drains[name].fleet, round, perRound, rate);
      const into = pacedResults[name];
      into.latenciesMs.push(...r.latenciesMs);
      into.finished.completed += r.finished.completed;
      into.finished.failed += r.finished.failed;
    }
  }
  const figures: SystemFigures[] = SYSTEM_NAMES.map((name) => ({
    name,
    drain: drains[name],
    paced: pacedResults[name],
    peakRssMb: drains[name].fleet.peakRssMb(),
  }));
  const errors = fleets.flatMap((f) => f.logLines(/"level":(50|60)/));
  const [base, bj] = figures as [SystemFigures, SystemFigures];
  console.log(
    [
      ...header(plan, startLoad, startedAt),
      '',
      ...table(base, bj),
      '',
      ...details(figures),
      ...(errors.length > 0
        ? [`errors logged by bedrock-jobs workers: ${errors.length}, first: ${errors[0]}`]
        : []),
      ...LEGEND,
      `load average at end ${loadAverage()}; bench wall time ${((performance.now() - wallStart) / 1000).toFixed(0)} s`,
    ].join('\n'),
  );
} finally {
  await cleanup();
}
