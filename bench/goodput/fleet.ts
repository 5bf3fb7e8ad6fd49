import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { SECOND } from '../../src/units.js';
import { type ChildMessage, ChildMessageSchema, type ParentMessage, type RunSpec } from './protocol.js';

const CHILD = new URL('./child.ts', import.meta.url);
/** Loading a library under tsx on a busy two-core machine can take a while. */
const REPLY_TIMEOUT_MS = 60 * SECOND;
/** Beyond a stop's grace, how long a process may take before it is killed. */
const EXIT_MARGIN_MS = 5 * SECOND;

/** Waits for the next message of `type` from a worker process. */
function reply(child: ChildProcess, type: ChildMessage['type'], timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`worker process: no "${type}" in time`)), timeoutMs);
    const onMessage = (raw: unknown): void => {
      const parsed = ChildMessageSchema.safeParse(raw);
      if (!parsed.success) return;
      if (parsed.data.type === type) finish();
      else if (parsed.data.type === 'failed') finish(new Error(`worker process: ${parsed.data.message}`));
    };
    const onExit = (code: number | null): void => finish(new Error(`worker process exited (${code})`));
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function post(child: ChildProcess, message: ParentMessage): void {
  if (child.connected) child.send(message);
}

/** A worker process and the promise that it has loaded. */
interface Slot {
  child: ChildProcess;
  loaded: Promise<void>;
}

function spawn(): Slot {
  // The child inherits this process's loader flags (tsx), so it runs TypeScript as this one does.
  const child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const loaded = reply(child, 'loaded', REPLY_TIMEOUT_MS);
  // Awaited before each start; this keeps an early failure from being reported as unhandled.
  loaded.catch(() => {});
  return { child, loaded };
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_MARGIN_MS);
  await exited;
  clearTimeout(timer);
}

/** Worker processes started once and reused by every run of one system. */
export interface Pool {
  /**
   * Starts the run's worker in the first `processes` processes; resolves once every one takes
   * jobs, so start-up is never part of a measurement. Resolves to a function that stops them.
   */
  start(spec: RunSpec, processes: number): Promise<(graceMs: number) => Promise<void>>;
  /** Ends every process; a process that does not exit in time is killed. */
  close(): Promise<void>;
}

/** Starts `size` worker processes and waits until each has loaded. */
export async function startPool(size: number): Promise<Pool> {
  const slots = Array.from({ length: size }, spawn);

  const stopSlot = async (i: number, graceMs: number): Promise<void> => {
    const { child } = slots[i]!;
    const stopped = reply(child, 'stopped', graceMs + EXIT_MARGIN_MS);
    post(child, { type: 'stop', graceMs });
    try {
      await stopped;
    } catch {
      // A worker stuck past its grace: replace the process so the next run starts clean.
      child.kill('SIGKILL');
      slots[i] = spawn();
    }
  };

  const pool: Pool = {
    async start(spec, processes) {
      const used = slots.slice(0, processes).map((_, i) => i);
      const stop = async (graceMs: number): Promise<void> => {
        await Promise.all(used.map((i) => stopSlot(i, graceMs)));
      };
      try {
        await Promise.all(
          used.map(async (i) => {
            const { child, loaded } = slots[i]!;
            await loaded;
            const started = reply(child, 'started', REPLY_TIMEOUT_MS);
            post(child, { type: 'start', spec });
            await started;
          }),
        );
      } catch (e) {
        await stop(0);
        throw e;
      }
      return stop;
    },
    async close() {
      await Promise.all(slots.map(({ child }) => end(child)));
    },
  };
  try {
    await Promise.all(slots.map(({ loaded }) => loaded));
  } catch (e) {
    await pool.close();
    throw e;
  }
  return pool;
}
