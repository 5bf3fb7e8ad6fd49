import { type Redis, ReplyError } from 'ioredis';
import { dataNodes, type RedisClient, whenReady } from './connect.js';

/**
 * What one Redis node says about the two settings a queue depends on. Every field is
 * `undefined` when the node would not say: managed Redis (ElastiCache, MemoryDB) renames or
 * blocks `CONFIG`, and then only `INFO` is left, which names the eviction policy and AOF but not
 * the RDB save schedule.
 */
export interface NodeSettings {
  /** `host:port` of the node. */
  node: string;
  /** `maxmemory-policy`: anything but `noeviction` lets Redis delete keys when memory is full. */
  maxmemoryPolicy: string | undefined;
  /** Whether `CONFIG GET` answered; when not, the policy came from `INFO` (or nowhere). */
  configReadable: boolean;
  /** Append-only file on. */
  aof: boolean | undefined;
  /** An RDB `save` schedule is set. */
  rdbSave: boolean | undefined;
}

/** A problem found, with the nodes it is on; `fatal` ones stop the service from starting. */
export interface RedisFinding {
  code: 'evicting' | 'eviction-unverified' | 'no-persistence' | 'persistence-unverified';
  fatal: boolean;
  message: string;
  nodes: string[];
}

/** Redis refuses queue work as configured: the message says what to change. */
export class RedisSetupError extends Error {
  override readonly name = 'RedisSetupError';
}

/** BullMQ's requirement: the one policy under which Redis never deletes a key to make room. */
export const SAFE_POLICY = 'noeviction';

/**
 * Reads the settings of every data node (the Redis, or each Cluster master). `persistence: false`
 * reads the eviction policy alone (one round trip), for health checks and producers.
 * @throws whatever the connection throws when Redis does not answer; a refused command is
 *   not an error, it leaves its setting `undefined`.
 */
export async function readRedisSettings(
  client: RedisClient,
  options: { persistence: boolean },
): Promise<NodeSettings[]> {
  await whenReady(client);
  return Promise.all(dataNodes(client).map((node) => readNode(node, options.persistence)));
}

/** Redis's error codes for a login it refuses: retrying with the same credentials cannot help. */
const LOGIN_REFUSALS = new Set(['WRONGPASS', 'NOAUTH', 'NOPERM']);

const nodeName = (node: Redis): string => `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;

/**
 * Proves every data node lets us in, so a wrong user or password is one clear error at start
 * rather than a connection that retries forever.
 * @throws RedisSetupError naming the node and where the credentials come from, when Redis
 *   refuses the login; whatever the connection throws when Redis does not answer.
 */
export async function checkLogin(client: RedisClient): Promise<void> {
  await whenReady(client);
  await Promise.all(dataNodes(client).map(pingNode));
}

async function pingNode(node: Redis): Promise<void> {
  try {
    await node.ping();
  } catch (e) {
    // A Redis error reply starts with its code (the protocol's own, not prose).
    const code = e instanceof ReplyError ? (e as Error).message.split(' ', 1)[0] : undefined;
    if (code === undefined || !LOGIN_REFUSALS.has(code)) throw e;
    throw new RedisSetupError(
      `Redis at ${nodeName(node)} refused the login (${code}): check the user and password ` +
        'in REDIS_URL, or in redis.username and redis.password',
    );
  }
}

async function readNode(node: Redis, persistence: boolean): Promise<NodeSettings> {
  const name = nodeName(node);
  // A refused login fails every pending command with a ReplyError too: prove we are in first,
  // so that a ReplyError below means this one command was refused.
  await pingNode(node);
  const [policy, appendonly, save] = await Promise.all([
    configGet(node, 'maxmemory-policy'),
    persistence ? configGet(node, 'appendonly') : undefined,
    persistence ? configGet(node, 'save') : undefined,
  ]);
  const configReadable = policy !== undefined;
  const memory = configReadable ? undefined : await infoSection(node, 'memory');
  const persisted =
    persistence && appendonly === undefined ? await infoSection(node, 'persistence') : undefined;
  const aofEnabled = persisted?.get('aof_enabled');
  return {
    node: name,
    maxmemoryPolicy: policy ?? memory?.get('maxmemory_policy'),
    configReadable,
    aof:
      appendonly !== undefined
        ? appendonly === 'yes'
        : aofEnabled !== undefined
          ? aofEnabled === '1'
          : undefined,
    rdbSave: save !== undefined ? save.trim() !== '' : undefined,
  };
}

/** One `CONFIG GET`; `undefined` when the server refuses it (renamed, blocked, or denied by ACL). */
async function configGet(node: Redis, parameter: string): Promise<string | undefined> {
  try {
    const reply = await node.config('GET', parameter);
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
    return undefined;
  } catch (e) {
    if (e instanceof ReplyError) return undefined;
    throw e;
  }
}

/** The `field:value` lines of one `INFO` section; `undefined` when the server refuses it. */
async function infoSection(node: Redis, section: string): Promise<Map<string, string> | undefined> {
  let text: string;
  try {
    text = await node.info(section);
  } catch (e) {
    if (e instanceof ReplyError) return undefined;
    throw e;
  }
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

/**
 * What is wrong with these nodes for a job queue. Pure: the shell decides what to log and
 * whether to stop. An evicting policy is fatal; a policy or persistence that cannot be read,
 * or no persistence at all, is a warning. `persistence: false` judges the eviction policy alone.
 */
export function judgeRedis(
  nodes: readonly NodeSettings[],
  options: { persistence: boolean },
): RedisFinding[] {
  const findings: RedisFinding[] = [];
  const where = (list: readonly NodeSettings[]) => list.map((n) => n.node);
  const evicting = nodes.filter((n) => n.maxmemoryPolicy !== undefined && n.maxmemoryPolicy !== SAFE_POLICY);
  if (evicting.length > 0) {
    const policies = [...new Set(evicting.map((n) => n.maxmemoryPolicy))].join(', ');
    findings.push({
      code: 'evicting',
      fatal: true,
      nodes: where(evicting),
      message: `Redis maxmemory-policy is ${policies}, not ${SAFE_POLICY}: when its memory fills, Redis deletes keys, and queued jobs, locks and results vanish without an error. Set maxmemory-policy to ${SAFE_POLICY} (CONFIG SET maxmemory-policy ${SAFE_POLICY} and in redis.conf; on ElastiCache or MemoryDB, in the parameter group)`,
    });
  }
  const unknownPolicy = nodes.filter((n) => n.maxmemoryPolicy === undefined);
  if (unknownPolicy.length > 0)
    findings.push({
      code: 'eviction-unverified',
      fatal: false,
      nodes: where(unknownPolicy),
      message: `could not verify Redis maxmemory-policy (CONFIG GET and INFO did not say): make sure it is ${SAFE_POLICY}, or queued jobs may vanish when memory fills`,
    });
  if (!options.persistence) return findings;
  const volatile = nodes.filter((n) => n.aof === false && n.rdbSave === false);
  if (volatile.length > 0)
    findings.push({
      code: 'no-persistence',
      fatal: false,
      nodes: where(volatile),
      message:
        'Redis persistence is off (no AOF, no RDB save): a Redis restart loses every queued job and result. Turn on appendonly yes, or an RDB save schedule',
    });
  const unknownPersistence = nodes.filter(
    (n) => !volatile.includes(n) && n.aof !== true && (n.aof === undefined || n.rdbSave === undefined),
  );
  if (unknownPersistence.length > 0)
    findings.push({
      code: 'persistence-unverified',
      fatal: false,
      nodes: where(unknownPersistence),
      message:
        'could not verify Redis persistence (AOF is off or unknown and CONFIG GET save is refused): if Redis keeps no snapshots or replicas, a restart loses every queued job',
    });
  return findings;
}

/** Where findings go: a pino logger fits. */
export interface FindingLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Checks Redis before a service starts on it: logs one line per finding (`redis: { code,
 * nodes }`) and throws on a fatal one. `persistence: false` skips the persistence checks
 * (for short-lived commands, where a warning on every run would be noise).
 * @throws RedisSetupError when Redis may evict keys.
 */
export async function ensureSafeRedis(
  client: RedisClient,
  log: FindingLog,
  options: { persistence: boolean },
): Promise<NodeSettings[]> {
  const nodes = await readRedisSettings(client, options);
  for (const finding of judgeRedis(nodes, options)) {
    const fields = { redis: { code: finding.code, nodes: finding.nodes } };
    if (finding.fatal) {
      log.error(fields, finding.message);
      throw new RedisSetupError(finding.message);
    }
    log.warn(fields, finding.message);
  }
  return nodes;
}

/** The eviction policy of all data nodes in one word, for health checks and metrics. */
export interface EvictionState {
  /** The first unsafe policy found, else `noeviction`, else `undefined` when no node said. */
  policy: string | undefined;
  /** `false` when a node may evict keys, `undefined` when that could not be read everywhere. */
  safe: boolean | undefined;
}

/**
 * Reads the eviction policy of every data node now (one round trip per node), so a policy
 * changed after start shows up.
 * @throws whatever the connection throws when Redis does not answer.
 */
export async function readEvictionState(client: RedisClient): Promise<EvictionState> {
  const nodes = await readRedisSettings(client, { persistence: false });
  const unsafe = nodes.find((n) => n.maxmemoryPolicy !== undefined && n.maxmemoryPolicy !== SAFE_POLICY);
  if (unsafe) return { policy: unsafe.maxmemoryPolicy, safe: false };
  const known = nodes.length > 0 && nodes.every((n) => n.maxmemoryPolicy !== undefined);
  return known ? { policy: SAFE_POLICY, safe: true } : { policy: undefined, safe: undefined };
}
