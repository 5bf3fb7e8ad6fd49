import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ConfigSchema } from '../../src/config.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { costUsd } from '../../src/models/info.js';
import type { JobInput } from '../../src/queue/jobs.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { deleteKeys } from '../../src/redis/purge.js';
import { type AdminStats, ProfileSchema, startSimulatorWithProfile } from '../../src/simulator/index.js';
import { SECOND } from '../../src/units.js';
import type { BenchJob } from '../baselines/types.js';
import { bedrockJobsConfig, CHAIN_NAME } from './bedrock-jobs-config.js';
import type { Pool } from './fleet.js';
import {
  boundMs,
  CHAIN,
  chainRate,
  type Plan,
  processesIn,
  type ScenarioId,
  type SystemName,
} from './plan.js';
import { simulatorProfile } from './simulator-profile.js';

/** What one system did in one scenario. */
export interface RunResult {
  scenario: ScenarioId;
  system: SystemName;
  /** From the first enqueue until every job completed or failed (or the deadline). */
  elapsedMs: number;
  completed: number;
  /** Jobs that failed, plus those still unfinished when the run was cut. */
  failed: number;
  /** The run hit its deadline. */
  cut: boolean;
  /** Calls the simulator answered 429. */
  throttled: number;
  /** Calls the simulator answered with an outage 503. */
  downCalls: number;
  /** Tokens the simulator served, at catalog prices. */
  costUsd: number;
}

const REGION = 'us-east-1';
const QUEUE_NAME = 'goodput';
/** Jobs arrive in small groups this often, at the plan's demand rate. */
const ARRIVAL_TICK_MS = 100;
const POLL_MS = 25;
/** How long workers get to finish in-flight calls when a run ends or is cut. */
const STOP_GRACE_MS = 2 * SECOND;

const prompt = (i: number): string =>
  `Question ${i}: in two sentences, what does a job queue do for a web service?`;

/**
 * The longest one run can take: cut at the deadline, then the stop's grace and the margin
 * before a stuck worker process is killed, plus simulator start and key deletion.
 */
export const worstRunMs = (plan: Plan): number =>
  plan.deadlineBounds * boundMs(plan) + STOP_GRACE_MS + 8 * SECOND;

/** Adds jobs and counts the finished ones, the way the system under test is fed. */
interface Feeder {
  add(jobs: readonly BenchJob[]): Promise<void>;
  finished(): Promise<{ completed: number; failed: number }>;
  close(): Promise<void>;
}

function bedrockJobsFeeder(producer: Producer, maxTokens: number): Feeder {
  const batchId = `goodput-${randomUUID()}`;
  return {
    async add(jobs) {
      const inputs: JobInput[] = jobs.map((j) => ({
        id: j.id,
        task: 'generate',
        chain: CHAIN_NAME,
        // The same API as every baseline: Converse.
        api: 'converse',
        messages: [{ role: 'user', content: j.prompt }],
        // The baselines' budget too: without it the model's own maximum would apply.
        params: { maxTokens },
      }));
      // Jobs arrive in waves into one batch: it stays open, and only its counters are read.
      await producer.enqueueBatch(inputs, { batchId, open: true });
    },
    async finished() {
      const counters = await producer.getBatch(batchId);
      return { completed: counters?.completed ?? 0, failed: counters?.failed ?? 0 };
    },
    close: () => producer.close(),
  };
}

function baselineFeeder(redisUrl: string, prefix: string): Feeder {
  const queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl }, prefix });
  return {
    async add(jobs) {
      await queue.addBulk(jobs.map((data) => ({ name: 'job', data, opts: { jobId: data.id } })));
    },
    async finished() {
      const counts = await queue.getJobCounts('completed', 'failed');
      return { completed: counts.completed ?? 0, failed: counts.failed ?? 0 };
    },
    close: () => queue.close(),
  };
}

function tally(
  stats: AdminStats,
  catalog: ModelCatalog,
): Pick<RunResult, 'throttled' | 'downCalls' | 'costUsd'> {
  let cost = 0;
  let downCalls = 0;
  for (const [key, m] of Object.entries(stats.models)) {
    const info = catalog.resolve(key)?.info;
    if (info) cost += costUsd(info, m);
    downCalls += m.faultsByKind.outage ?? 0;
  }
  return { throttled: stats.total.throttled, downCalls, costUsd: cost };
}

/**
 * Runs one system through one scenario: a fresh simulator with the scenario's profile, the
 * system's worker started in the pool's processes, jobs arriving at the plan's demand rate,
 * and the simulator's counters read the moment the last job finished. Every key of the run
 * is deleted after.
 */
export async function runOnce(
  scenario: ScenarioId,
  system: SystemName,
  plan: Plan,
  env: { redis: Redis; redisUrl: string; pool: Pool },
): Promise<RunResult> {
  const { redis, redisUrl } = env;
  const prefix = `{goodput-${randomUUID()}}`;
  const { faults, ...profile } = simulatorProfile(scenario, plan);
  // Faults are added when the run starts (below), so the profile starts without them.
  const sim = await startSimulatorWithProfile({ profile: ProfileSchema.parse(profile), host: '127.0.0.1' });
  const config = bedrockJobsConfig(scenario, plan, { redisUrl, prefix, endpoint: sim.url });
  const feeder =
    system === 'bedrock-jobs'
      ? bedrockJobsFeeder(
          createProducer({ redis: redisUrl, prefix, config: ConfigSchema.parse(config) }),
          plan.maxTokens,
        )
      : baselineFeeder(redisUrl, prefix);
  const catalog = new ModelCatalog();
  try {
    const stop = await env.pool.start(
      {
        system,
        redisUrl,
        prefix,
        queueName: QUEUE_NAME,
        endpoint: sim.url,
        region: REGION,
        chain: [...CHAIN],
        maxTokens: plan.maxTokens,
        concurrency: plan.concurrency,
        bedrockJobs: { ...config },
      },
      processesIn(scenario),
    );
    try {
      // Time zero: full quota buckets, zero counters, fault windows from now.
      sim.admin.reset();
      const offsetMs = sim.admin.stats().simulatedMs;
      for (const f of faults ?? []) {
        sim.admin.addFault({
          ...f,
          ...(f.fromMs !== undefined ? { fromMs: f.fromMs + offsetMs } : {}),
          ...(f.toMs !== undefined ? { toMs: f.toMs + offsetMs } : {}),
        });
      }
      const start = performance.now();
      const deadline = start + plan.deadlineBounds * boundMs(plan);
      let feedError: unknown;
      // Caught here so a failed enqueue ends the run instead of crashing the bench unhandled.
      const arrivals = feed(feeder, plan, start).catch((e: unknown) => {
        feedError = e ?? new Error('enqueue failed');
      });
      let done = { completed: 0, failed: 0 };
      let cut = false;
      for (;;) {
        if (feedError !== undefined) throw feedError;
        done = await feeder.finished();
        if (done.completed + done.failed >= plan.jobs) break;
        if (performance.now() >= deadline) {
          cut = true;
          break;
        }
        await sleep(POLL_MS);
      }
      const elapsedMs = performance.now() - start;
      const stats = sim.admin.stats();
      await arrivals;
      if (feedError !== undefined) throw feedError;
      return {
        scenario,
        system,
        elapsedMs,
        completed: done.completed,
        failed: plan.jobs - done.completed,
        cut,
        ...tally(stats, catalog),
      };
    } finally {
      await stop(STOP_GRACE_MS);
    }
  } finally {
    await feeder.close();
    await sim.close();
    await deleteKeys(redis, prefix);
  }
}

/** Enqueues the plan's jobs at `demandFactor` × the chain's quota, on a fixed schedule. */
async function feed(feeder: Feeder, plan: Plan, start: number): Promise<void> {
  const perTick = (plan.demandFactor * chainRate(plan) * ARRIVAL_TICK_MS) / SECOND;
  let sent = 0;
  for (let tick = 0; sent < plan.jobs; tick++) {
    const due = Math.min(plan.jobs, Math.round((tick + 1) * perTick));
    const jobs = Array.from({ length: due - sent }, (_, k) => ({
      id: `j${sent + k}`,
      prompt: prompt(sent + k),
    }));
    if (jobs.length > 0) await feeder.add(jobs);
    sent = due;
    // Sleep to the next tick's due time, so a slow enqueue does not push every later one back.
    const wait = start + (tick + 1) * ARRIVAL_TICK_MS - performance.now();
    if (wait > 0) await sleep(wait);
  }
}
