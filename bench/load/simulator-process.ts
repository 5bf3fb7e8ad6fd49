import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { freePort } from '../../test/helpers/redis-server.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'bedrock-jobs.js');
/** Loading the CLI through tsx on a busy two-core machine can take a while. */
const START_TIMEOUT_MS = 60_000;

/** The line `bedrock-jobs --json simulator` prints once it listens. */
const ListeningSchema = z.object({ url: z.string().url() });

/** The simulator in a process of its own, as a deployment runs it. */
export interface SimulatorProcess {
  url: string;
  pid: number;
  /** Stops the process. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `bedrock-jobs simulator` with `profile` on a free port of 127.0.0.1, so the systems'
 * calls never share an event loop with the harness, and its CPU time is its own.
 */
export async function startSimulatorProcess(profile: string): Promise<SimulatorProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [BIN, '--json', 'simulator', '--port', String(port), '--host', '127.0.0.1', '--profile', profile],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    })();
    return stopping;
  };
  try {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
    const [first] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`the simulator exited (${code}) before it listened`);
      }),
    ])) as [string];
    clearTimeout(timer);
    lines.close();
    child.stdout.resume();
    return { url: ListeningSchema.parse(JSON.parse(first)).url, pid: child.pid ?? 0, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
