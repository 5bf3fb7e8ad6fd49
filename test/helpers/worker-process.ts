import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root, where the CLI runs. */
const ROOT = join(import.meta.dirname, '..', '..');
/** The CLI entry users run (`bin/bedrock-jobs.js`). */
const BIN = join(ROOT, 'bin', 'bedrock-jobs.js');

/** One JSON log line of a worker (pino, on stderr). */
export interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  [field: string]: unknown;
}

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `bedrock-jobs worker` process and what it has said so far. */
export interface WorkerProcess {
  readonly pid: number;
  /** Every JSON log line so far, in order. */
  readonly lines: readonly LogLine[];
  /** Resolves with how the process ended. */
  readonly exited: Promise<Exit>;
  /** Resolves once it logged `worker started`; rejects if it ended before. */
  readonly started: Promise<LogLine>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Resolves with the first log line whose `msg` matches; rejects if the process ends first. */
  until(msg: string | RegExp): Promise<LogLine>;
  /** Sends a signal (no-op once it has ended). */
  signal(signal: NodeJS.Signals): void;
  /** `kill -9`, resolving once the process is gone. */
  kill(): Promise<Exit>;
}

/** What a worker process runs with. */
export interface WorkerSpec {
  redisUrl: string;
  /** The simulator's URL (`BEDROCK_ENDPOINT`). */
  endpoint: string;
  /** A config file (`BEDROCK_JOBS_CONFIG`), JSON. */
  configFile: string;
  concurrency?: number;
  /** Arguments for node itself, e.g. `--max-old-space-size=256`. */
  nodeArgs?: readonly string[];
}

const matches = (msg: string | RegExp, line: LogLine): boolean =>
  typeof msg === 'string' ? line.msg === msg : msg.test(line.msg ?? '');

/**
 * Spawns `node bin/bedrock-jobs.js worker` as a user would, with only the
 * environment given here (log level `info`: `worker started` is an info line). Kill it when
 * done, also when it never started.
 */
export function spawnWorkerProcess(spec: WorkerSpec): WorkerProcess {
  const args = [
    ...(spec.nodeArgs ?? []),
    BIN,
    'worker',
    ...(spec.concurrency ? ['--concurrency', String(spec.concurrency)] : []),
  ];
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LOG_LEVEL: 'info',
      REDIS_URL: spec.redisUrl,
      BEDROCK_ENDPOINT: spec.endpoint,
      BEDROCK_JOBS_CONFIG: spec.configFile,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters: { msg: string | RegExp; resolve: (l: LogLine) => void }[] = [];
  let rest = '';
  let tail = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => {
    const text = d.toString('utf8');
    tail = (tail + text).slice(-2_000);
    rest += text;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      const line = JSON.parse(part) as LogLine;
      lines.push(line);
      for (const w of waiters.filter((x) => matches(x.msg, line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ended = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const worker: Omit<WorkerProcess, 'started'> = {
    pid: child.pid ?? -1,
    lines,
    exited,
    until(msg) {
      const seen = lines.find((l) => matches(msg, l));
      if (seen) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        waiters.push({ msg, resolve });
        exited.then(({ code, signal }) =>
          reject(new Error(`worker ${child.pid} ended (${signal ?? code}) before logging ${msg}: ${tail}`)),
        );
      });
    },
    signal(signal) {
      if (!ended()) child.kill(signal);
    },
    alive: () => !ended(),
    async kill() {
      if (!ended()) child.kill('SIGKILL');
      return exited;
    },
  };
  const started = worker.until('worker started');
  // Whoever does not wait for the start must not see its rejection as unhandled.
  started.catch(() => undefined);
  return { ...worker, started };
}

/**
 * Resident set size of a live process from `/proc/<pid>/status`, in MiB: `VmRSS` now and
 * `VmHWM`, the kernel's own peak since the process started (so no sample can miss a spike).
 * Undefined once the process is gone.
 */
export function rssOf(pid: number): { rssMb: number; peakMb: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]);
  };
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}
