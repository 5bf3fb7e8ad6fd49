import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactUrlCredentials } from '../log.js';
import { connectRedis, type RedisClient, RedisSettingsSchema } from '../redis/connect.js';
import { CliError } from './context.js';

export interface FoundRedis {
  url: string;
  /** Where it came from, for the user. */
  source: string;
  /** Stops what we started (nothing for a Redis we found running). */
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  let r: RedisClient;
  try {
    r = connectRedis(url, RedisSettingsSchema.parse({}), { probeTimeoutMs: 1_000 });
  } catch {
    return false; // not a Redis URL
  }
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startLocalServer(): Promise<FoundRedis | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'bedrock-jobs-redis-'));
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
  } catch {
    return undefined;
  }
  const failed = new Promise<boolean>((resolve) => child.once('error', () => resolve(true)));
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await Promise.race([failed, new Promise<boolean>((r) => setTimeout(() => r(false), 100))])) break;
    if (await answers(url)) {
      return {
        url,
        source: `redis-server started on port ${port}`,
        async stop() {
          child.kill('SIGTERM');
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  }
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}

async function startContainer(): Promise<FoundRedis | undefined> {
  try {
    const { GenericContainer } = await import('testcontainers');
    const container = await new GenericContainer('redis:7').withExposedPorts(6379).start();
    return {
      url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
      source: 'a Redis container (testcontainers)',
      async stop() {
        await container.stop();
      },
    };
  } catch {
    return undefined;
  }
}

/**
 * A Redis for the demo: `REDIS_URL`, then 127.0.0.1:6379, then a `redis-server` from PATH in
 * a temp dir, then a container where Docker runs.
 * @throws CliError saying how to get Redis when none of those works
 */
export async function findRedis(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<FoundRedis> {
  const none = async () => undefined;
  if (env.REDIS_URL) {
    if (await answers(env.REDIS_URL)) return { url: env.REDIS_URL, source: 'REDIS_URL', stop: none };
    throw new CliError(
      `REDIS_URL=${redactUrlCredentials(env.REDIS_URL)} does not answer; start that Redis or unset REDIS_URL`,
    );
  }
  if (await answers('redis://127.0.0.1:6379'))
    return { url: 'redis://127.0.0.1:6379', source: 'Redis on 127.0.0.1:6379', stop: none };
  const found = (await startLocalServer()) ?? (await startContainer());
  if (found) return found;
  throw new CliError(
    'no Redis found: set REDIS_URL, or run Redis on 127.0.0.1:6379 (Debian/Ubuntu: apt-get install redis-server), or install Docker so a Redis container can be started',
  );
}
