import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { vi } from 'vitest';

/**
 * A Redis server of a test's own, for tests that stop, kill or reconfigure Redis, or need one
 * set up as the shared one is not (an evicting policy, `CONFIG` renamed, TLS, ACL users, a Cluster).
 */
export interface OwnRedis {
  url: string;
  port: number;
  /** Where the server keeps its files (AOF, RDB); it outlives stops and restarts until `close()`. */
  dir: string;
  /** Kills the server at once (`SIGKILL`), as a crash or a lost node would. */
  kill(): Promise<void>;
  /** Stops the server as an operator does (`SHUTDOWN`: it writes what persistence asks for first). */
  shutdown(): Promise<void>;
  /** Starts the server again on the same port, directory and arguments, once it has stopped. */
  restart(): Promise<void>;
  /** Stops the server if it runs and removes its directory. Idempotent. */
  close(): Promise<void>;
}

/** A port nobody listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Spawns `redis-server` with `args` and resolves once it prints "Ready to accept connections". */
async function launch(args: readonly string[]): Promise<ChildProcess> {
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString('utf8');
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
  });
  return child;
}

const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/**
 * Starts `redis-server` on a free port with nothing kept on disk (`extraArgs` may turn AOF on,
 * e.g. `['--appendonly', 'yes']`: later arguments win), and resolves once it accepts
 * connections (it prints "Ready to accept connections").
 */
export async function startOwnRedis(extraArgs: readonly string[] = []): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bj-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    ...extraArgs,
  ];
  let child = await launch(args);
  const stop = async (how: 'kill' | 'shutdown'): Promise<void> => {
    if (!running(child)) return;
    const exited = once(child, 'exit');
    if (how === 'kill') child.kill('SIGKILL');
    else {
      const admin = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
      admin.on('error', () => {});
      // The connection ends with the server: no reply comes.
      await admin.call('SHUTDOWN').catch(() => undefined);
      admin.disconnect();
    }
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill: () => stop('kill'),
    shutdown: () => stop('shutdown'),
    async restart() {
      if (running(child)) throw new Error('redis-server is still running: stop it before restarting it');
      child = await launch(args);
    },
    async close() {
      await stop('kill');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OwnRedisCluster {
  readonly nodes: readonly OwnRedis[];
  /** A seed node's URL, as a user gives the configuration endpoint. */
  readonly url: string;
  /** Stops every node and removes their directories. Idempotent. */
  close(): Promise<void>;
}

/** Runs `redis-cli` and resolves when it exits 0. */
async function redisCli(args: readonly string[]): Promise<void> {
  const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout, child.stderr])
    stream.on('data', (d: Buffer) => {
      output += d.toString('utf8');
    });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`redis-cli ${args.join(' ')} exited with ${code}: ${output.slice(-500)}`);
}

/**
 * Starts `masters` cluster-enabled servers (each its own dir and cluster bus port), joins them
 * with `redis-cli --cluster create` without replicas, and resolves once every node reports
 * `cluster_state:ok` (polled: the state has no event to wait for).
 */
export async function startOwnRedisCluster(masters = 3): Promise<OwnRedisCluster> {
  const nodes: OwnRedis[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.close()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startOwnRedis([
          '--cluster-enabled',
          'yes',
          // Relative to the server's own --dir, so every node keeps its own file.
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-port',
          String(await freePort()),
        ]),
      );
    }
    await redisCli([
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const node of nodes) {
      const r = new Redis(node.url, { maxRetriesPerRequest: 1 });
      try {
        await vi.waitFor(
          async () => {
            const info = String(await r.cluster('INFO'));
            if (!info.includes('cluster_state:ok')) throw new Error(`node ${node.port}: ${info}`);
          },
          { timeout: 30_000, interval: 50 },
        );
      } finally {
        r.disconnect();
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes, url: nodes[0]!.url, close };
}
