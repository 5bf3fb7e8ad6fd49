import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/** A connection for our own keys and for BullMQ: one Redis, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * How to reach Redis beyond its URL (`redis` in the config). The URL (`redisUrl`) may carry all
 * of it (`rediss://user:password@host:6379`); these fields win over what the URL says.
 */
export const RedisSettingsSchema = z
  .object({
    cluster: z
      .boolean()
      .default(false)
      .describe(
        'Redis Cluster (ElastiCache / MemoryDB cluster mode): redisUrl is the configuration endpoint or any node; `prefix` must hold a {hash tag}',
      ),
    tls: z
      .boolean()
      .default(false)
      .describe('TLS even when redisUrl starts with redis:// (rediss:// always means TLS)'),
    caFile: z
      .string()
      .min(1)
      .optional()
      .describe("PEM file of the CA that signed Redis's certificate (default: the system's CAs)"),
    username: z.string().min(1).optional().describe('ACL user; wins over the user in redisUrl'),
    password: z
      .string()
      .min(1)
      .optional()
      .describe("the ACL user's password (or requirepass); wins over the one in redisUrl; never printed"),
  })
  .strict();
export type RedisSettings = z.infer<typeof RedisSettingsSchema>;

/** What a `redis://` or `rediss://` URL says. */
export interface RedisAddress {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
}

/**
 * Reads a Redis URL: `redis[s]://[user[:password]@]host[:port][/db]`. User and password are
 * percent-decoded, as in any URL.
 * @throws Error naming the problem when the URL is not one.
 */
export function parseRedisUrl(url: string): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('is not a URL (redis://host:port or rediss://host:port)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`must start with redis:// or rediss://, not ${u.protocol}//`);
  if (!u.hostname) throw new Error('names no host');
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`database "${u.pathname.slice(1)}" is not a number`);
  return {
    // `new URL` keeps IPv6 hosts in brackets; sockets want them bare.
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db,
  };
}

/** How one connection behaves; everything about where and who comes from the config. */
export interface ConnectionTuning {
  /**
   * Retries of a command while Redis is away: `null` waits for it (what BullMQ workers need),
   * a number fails the command after that many reconnects (ioredis's default is 20).
   */
  maxRetriesPerRequest?: number | null;
  /** One connection attempt that gives up after this long, and no reconnects: for quick probes. */
  probeTimeoutMs?: number;
}

/**
 * Opens a connection as the config says: one Redis, or a Cluster with `settings.cluster`; TLS
 * for `rediss://` or `settings.tls`; the ACL user and password of the settings, else of the URL.
 * Every connection of the service is made here, so they all agree.
 * @throws Error when the URL is not a Redis URL, a Cluster URL names a database, or `caFile`
 *   cannot be read.
 */
export function connectRedis(
  url: string,
  settings: RedisSettings,
  tuning: ConnectionTuning = {},
): RedisClient {
  const address = parseRedisUrl(url);
  const tls = address.tls || settings.tls ? tlsOptions(settings) : undefined;
  const username = settings.username ?? address.username;
  const password = settings.password ?? address.password;
  const probe = tuning.probeTimeoutMs;
  const node: RedisOptions = {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
    ...(tuning.maxRetriesPerRequest !== undefined
      ? { maxRetriesPerRequest: tuning.maxRetriesPerRequest }
      : {}),
    ...(probe !== undefined ? { connectTimeout: probe, maxRetriesPerRequest: 0, lazyConnect: true } : {}),
  };
  if (!settings.cluster) {
    return new Redis({
      host: address.host,
      port: address.port,
      db: address.db,
      ...node,
      ...(probe !== undefined ? { retryStrategy: () => null } : {}),
    });
  }
  if (address.db !== 0) throw new Error('a Redis Cluster has only database 0; remove the /db from redisUrl');
  const { lazyConnect: _lazy, ...redisOptions } = node;
  const options: ClusterOptions = {
    redisOptions,
    // ElastiCache with TLS hands out node names its certificate is for: connect to the name,
    // not to an address DNS turned it into, or the certificate check fails.
    ...(tls ? { dnsLookup: (hostname, callback) => callback(null, hostname) } : {}),
    ...(probe !== undefined ? { lazyConnect: true, clusterRetryStrategy: () => null } : {}),
  };
  return new Cluster([{ host: address.host, port: address.port }], options);
}

function tlsOptions(settings: RedisSettings): ConnectionOptions {
  if (!settings.caFile) return {};
  try {
    return { ca: readFileSync(settings.caFile) };
  } catch (e) {
    throw new Error(
      `redis.caFile: cannot read ${settings.caFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
}

/** The nodes that hold data: the Redis itself, or every master of a Cluster. */
export function dataNodes(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Another connection with the same settings, e.g. for a blocking read that holds its own. */
export function duplicateClient(client: RedisClient): RedisClient {
  // Narrowed first: the two classes' `duplicate` take different arguments.
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}

/**
 * Resolves once a Cluster knows its nodes (a single Redis queues commands until it connects,
 * so it resolves at once). A lazy Cluster is connected here.
 * @throws Error when the Cluster gives up connecting.
 */
export async function whenReady(client: RedisClient): Promise<void> {
  if (!(client instanceof Cluster) || client.status === 'ready') return;
  if (client.status === 'wait') return client.connect();
  await new Promise<void>((resolve, reject) => {
    const ready = () => {
      client.off('end', ended);
      resolve();
    };
    const ended = () => {
      client.off('ready', ready);
      reject(new Error('the Redis Cluster connection ended before it was ready'));
    };
    client.once('ready', ready);
    client.once('end', ended);
  });
}
