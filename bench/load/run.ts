import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { cpuMsOf, type Fleet } from './fleet.js';
import { jobId, type LoadPlan } from './plan.js';
import type { Finished, LoadSystem } from './systems.js';

/** How often the harness reads the counters while it waits (never part of a figure). */
const POLL_MS = 250;
/** A phase in which no job finished for this long is given up (a stuck or dead fleet). */
const STALL_MS = 60_000;
/** Worker processes load TypeScript through tsx; on a busy two-core machine that takes a while. */
const FLEET_START_TIMEOUT_MS = 120_000;
/** Jobs of the paced phase arrive in groups this often. */
const TICK_MS = 100;

/** CPU time used by each side of the run, ms. */
export interface CpuMs {
  workers: number;
  redis: number;
  simulator: number;
  /** This process: the producer and the polling. */
  harness: number;
}

/** What a phase reads besides the system itself. */
export interface Probes {
  /** A connection to the run's Redis: `INFO memory` and `INFO cpu`. */
  redis: Redis;
  simulatorPid: number;
}

/** What draining a backlog of queued jobs showed about one system. */
export interface DrainResult {
  fleet: Fleet;
  enqueueMs: number;
  /** `used_memory` after enqueueing minus before, with no worker running. */
  queuedBytes: number;
  /** Jobs per second from the queue's resume to the last result written. */
  throughput: number;
  finished: Finished;
  cpuMs: CpuMs;
  /** Commands Redis ran over the drain (`total_commands_processed`, those inside scripts included). */
  redisCommands: number;
}

/** What the paced phase showed: enqueue-to-result latency at a rate both systems can keep up with. */
export interface PacedResult {
  /** Milliseconds from the enqueue call to the result written, one per finished job. */
  latenciesMs: number[];
  finished: Finished;
  /** Jobs per second that were offered. */
  rate: number;
}

/** Numeric fields of one `INFO` section. */
async function info(redis: Redis, section: string): Promise<(field: string) => number> {
  const text = await redis.info(section);
  return (field) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const cpu = await info(redis, 'cpu');
  return (cpu('used_cpu_user') + cpu('used_cpu_sys')) * 1000;
}

const harnessCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function cpuNow(probes: Probes, fleet: Fleet): Promise<CpuMs> {
  return {
    workers: fleet.cpuMs().reduce((a, b) => a + b, 0),
    redis: await redisCpuMs(probes.redis),
    simulator: cpuMsOf(probes.simulatorPid),
    harness: harnessCpuMs(),
  };
}

/** Resolves once every process of the fleet takes jobs from the system's queue. */
async function fleetReady(system: LoadSystem, fleet: Fleet, count: number): Promise<void> {
  const deadline = performance.now() + FLEET_START_TIMEOUT_MS;
  while ((await system.queue.getWorkersCount()) < count) {
    fleet.assertRunning();
    if (performance.now() > deadline) throw new Error(`${system.name}: workers did not start in time`);
    await sleep(POLL_MS);
  }
}

/** Resolves once `total` jobs of the batch have finished; throws when the fleet stalls or dies. */
async function finishedAll(
  system: LoadSystem,
  fleet: Fleet,
  batchId: string,
  total: number,
): Promise<Finished> {
  let last = -1;
  let progressAt = performance.now();
  for (;;) {
    const f = await system.finished(batchId);
    const done = f.completed + f.failed;
    if (done >= total) return f;
    if (done !== last) {
      last = done;
      progressAt = performance.now();
    } else if (performance.now() - progressAt > STALL_MS) {
      throw new Error(`${system.name}: ${done} of ${total} jobs finished, none in ${STALL_MS / 1000} s`);
    }
    fleet.assertRunning();
    await sleep(POLL_MS);
  }
}

/**
 * Enqueues the whole backlog with no worker running (the queue paused), measures what it
 * takes in Redis, starts the system's worker processes and, once they all wait on the queue,
 * resumes it: throughput is the backlog over the time from the resume to the last result.
 * The fleet it starts is added to `started` at once, so an interrupted run can stop it.
 */
export async function drain(
  system: LoadSystem,
  plan: LoadPlan,
  probes: Probes,
  started: Fleet[],
): Promise<DrainResult> {
  const { redis } = probes;
  const batchId = 'drain';
  const backlog = Array.from({ length: plan.jobs }, (_, i) => jobId('drain', i));
  await system.queue.pause();
  const before = (await info(redis, 'memory'))('used_memory');
  const enqueueStart = performance.now();
  await system.enqueue(batchId, backlog, false);
  const enqueueMs = performance.now() - enqueueStart;
  const after = (await info(redis, 'memory'))('used_memory');
  const fleet = system.startFleet();
  started.push(fleet);
  try {
    await fleetReady(system, fleet, plan.processes);
    const cpuBefore = await cpuNow(probes, fleet);
    const commandsBefore = (await info(redis, 'stats'))('total_commands_processed');
    const resumedAt = Date.now();
    await system.queue.resume();
    const finished = await finishedAll(system, fleet, batchId, plan.jobs);
    const cpuAfter = await cpuNow(probes, fleet);
    const commandsAfter = (await info(redis, 'stats'))('total_commands_processed');
    const times = await system.finishTimes(backlog);
    const lastMs = Math.max(...times.filter((t): t is number => t !== undefined));
    return {
      fleet,
      enqueueMs,
      queuedBytes: after - before,
      throughput: finished.completed / ((lastMs - resumedAt) / 1000),
      finished,
      redisCommands: commandsAfter - commandsBefore,
      cpuMs: {
        workers: cpuAfter.workers - cpuBefore.workers,
        redis: cpuAfter.redis - cpuBefore.redis,
        simulator: cpuAfter.simulator - cpuBefore.simulator,
        harness: cpuAfter.harness - cpuBefore.harness,
      },
    };
  } catch (e) {
    await fleet.stop();
    throw e;
  }
}

/**
 * One round of the paced phase (`round` names its jobs and batch): `jobs` jobs arrive at `rate` per second, in groups every {@link TICK_MS} (catching up when an
 * enqueue took longer), each group enqueued in bulk; latency is from the start of the enqueue
 * call that carried a job to its result, both on this machine's clock.
 */
export async function pacedRound(
  system: LoadSystem,
  fleet: Fleet,
  round: number,
  jobs: number,
  rate: number,
): Promise<PacedResult> {
  const batchId = `paced-${round}`;
  const all = Array.from({ length: jobs }, (_, i) => jobId(`paced-${round}`, i));
  const enqueuedAt = new Array<number>(all.length);
  const start = performance.now();
  let sent = 0;
  for (let tick = 0; sent < all.length; tick++) {
    const wait = start + tick * TICK_MS - performance.now();
    if (wait > 0) await sleep(wait);
    // The jobs that arrive before the next tick; more when an enqueue made this tick late.
    const due = Math.min(all.length, Math.ceil(((performance.now() - start + TICK_MS) / 1000) * rate));
    if (due > sent) {
      const at = Date.now();
      await system.enqueue(batchId, all.slice(sent, due), true);
      enqueuedAt.fill(at, sent, due);
      sent = due;
    }
    fleet.assertRunning();
  }
  await system.seal(batchId);
  const finished = await finishedAll(system, fleet, batchId, all.length);
  const times = await system.finishTimes(all);
  const latenciesMs: number[] = [];
  times.forEach((t, i) => {
    if (t !== undefined) latenciesMs.push(t - enqueuedAt[i]!);
  });
  return { latenciesMs, finished, rate };
}
