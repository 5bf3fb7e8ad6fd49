import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaselineSpec } from './baseline-spec.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bedrock-jobs.js');
const BASELINE = join(import.meta.dirname, 'baseline-worker.ts');
/** After SIGTERM, how long a process may take to finish its jobs and exit before it is killed. */
const EXIT_GRACE_MS = 15_000;
/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const MS_PER_TICK = 10;

/** Worker processes of one system, with what /proc says about them. Linux only. */
export interface Fleet {
  readonly pids: readonly number[];
  /** Peak resident memory (VmHWM) of each process so far, MiB. */
  peakRssMb(): number[];
  /** CPU time (user + system) each process has used so far, ms. */
  cpuMs(): number[];
  /** Throws, with the end of its log, when a process has exited. */
  assertRunning(): void;
  /** Lines of the processes' logs (stderr) that match `pattern`. */
  logLines(pattern: RegExp): string[];
  /** SIGTERM to each process, SIGKILL to those still running after a grace. Idempotent. */
  stop(): Promise<void>;
}

/** `VmHWM` of a process from /proc, in MiB; 0 once it has exited. */
export function peakRssMbOf(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** User + system CPU time of a process from /proc, in ms; 0 once it has exited. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return 0;
  }
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function fleetOf(children: ChildProcess[], logs: string[]): Fleet {
  const pids = children.map((c) => c.pid ?? 0);
  let stopping: Promise<void> | undefined;
  return {
    pids,
    peakRssMb: () => pids.map(peakRssMbOf),
    cpuMs: () => pids.map(cpuMsOf),
    assertRunning() {
      children.forEach((child, i) => {
        if (child.exitCode === null && child.signalCode === null) return;
        const tail = readFileSync(logs[i]!, 'utf8').slice(-2000);
        throw new Error(`worker process ${pids[i]} exited (${child.exitCode ?? child.signalCode}):\n${tail}`);
      });
    },
    logLines(pattern) {
      return logs.flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => pattern.test(l)),
      );
    },
    stop() {
      stopping ??= Promise.all(children.map(end)).then(() => undefined);
      return stopping;
    },
  };
}

/** A child's stderr goes to a file: a pipe the harness had to read would cost it CPU per log line. */
function logFile(dir: string, name: string, i: number): { path: string; fd: number } {
  const path = join(dir, `${name}-${i}.log`);
  return { path, fd: openSync(path, 'w') };
}

/**
 * Starts `count` processes of `bedrock-jobs worker` (the CLI, as a fleet runs it) with the
 * given config file, at the config's log level, stderr to a file each in `dir`.
 */
export function startBedrockJobsFleet(
  count: number,
  configFile: string,
  redisUrl: string,
  dir: string,
): Fleet {
  const logs: string[] = [];
  const children = Array.from({ length: count }, (_, i) => {
    const log = logFile(dir, 'bedrock-jobs', i);
    logs.push(log.path);
    // Only what the config file says: no REDIS_URL, endpoint or log level from the caller's shell.
    const { LOG_LEVEL: _l, BEDROCK_ENDPOINT: _e, ...env } = process.env;
    const child = spawn(process.execPath, [BIN, 'worker'], {
      env: { ...env, REDIS_URL: redisUrl, BEDROCK_JOBS_CONFIG: configFile },
      stdio: ['ignore', 'ignore', log.fd],
    });
    closeSync(log.fd);
    return child;
  });
  return fleetOf(children, logs);
}

/** Starts `count` baseline worker processes (`baseline-worker.ts`), stderr to a file each in `dir`. */
export function startBaselineFleet(count: number, spec: BaselineSpec, dir: string): Fleet {
  const logs: string[] = [];
  const children = Array.from({ length: count }, (_, i) => {
    const log = logFile(dir, 'baseline', i);
    logs.push(log.path);
    // fork: the child inherits this process's loader flags (tsx), and the IPC channel that
    // ends it when the harness goes away.
    const child = fork(BASELINE, [JSON.stringify(spec)], { stdio: ['ignore', 'ignore', log.fd, 'ipc'] });
    closeSync(log.fd);
    return child;
  });
  return fleetOf(children, logs);
}
