import { isIPv4, isIPv6 } from 'node:net';
import { type Clock, monotonicClock } from '../clock.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { defineScript, NOW_AND_MODE_LUA, type ScriptRunner } from '../redis/script.js';

/**
 * Counts one failed authentication of a client (KEYS[1], {@link Keys.authFailures}).
 * ARGV[1] now (ms, or -1 for Redis TIME), ARGV[2] `fail`, ARGV[3] the window in ms. A window
 * starts at the client's first failure and lasts ARGV[3]; a failure after it starts the next.
 * Returns {failures in the window so far, ms left of the window}.
 */
const COUNT_LUA = `
${NOW_AND_MODE_LUA}
local window = tonumber(ARGV[3])
local start = tonumber(redis.call('HGET', KEYS[1], 's'))
if not start or now - start >= window or now < start then
  start = now
  redis.call('HSET', KEYS[1], 's', start, 'n', 0)
end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local left = start + window - now
redis.call('PEXPIRE', KEYS[1], left)
return {n, left}
`;

/** Whether a client may try to authenticate now; when not, how long until it may. */
export type AuthVerdict = { locked: false } | { locked: true; retryAfterSeconds: number };

const OPEN: AuthVerdict = { locked: false };

/** Past this many remembered lockouts, the expired ones are swept out on the next one. */
const SWEEP_AT = 10_000;

export interface FailedAuthLimitOptions {
  /** The API's own connection; never closed here. */
  redis: RedisClient;
  keys: Pick<Keys, 'authFailures'>;
  /** Failed authentications a client may make per window; the next ones get 429. 0: no limit. */
  limit: number;
  windowMs: number;
  /** The fleet's clock (tests); Redis `TIME` when absent, one clock for every API process. */
  clock?: Clock;
  /** What this process's memory of lockouts expires by; `performance.now()` when absent. */
  localClock?: Clock;
  logger?: Logger;
}

/**
 * The client a request is counted against: its IPv4 address (IPv4-mapped IPv6 included), or
 * the /64 of its IPv6 address, since one host is commonly given a whole /64 and could
 * otherwise start over from a fresh address at every try.
 */
export function clientOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  const bare = ip.split('%')[0] ?? ip;
  if (!isIPv6(bare)) return ip;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string) =>
    part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${all
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * A limit on failed authentications per client, shared by every API process: a client that
 * fails `limit` times within `windowMs` of its first failure is locked out for the rest of that
 * window, whatever it sends, so a right guess cannot be told from a wrong one meanwhile.
 *
 * Failures are counted in Redis, so the fleet's processes share one count. Successes cost
 * nothing: whether a client is locked out is read from this process's memory, which learns of
 * a lockout when it counts a failure past it. A process that has not yet seen one of a locked-out
 * client's failures lets that client's next request be checked, so across the fleet a client
 * gets at most one more try per API process per window.
 */
export class FailedAuthLimit {
  private readonly lockedUntil = new Map<string, number>();
  private readonly count: ScriptRunner;
  private readonly localClock: Clock;

  constructor(private readonly o: FailedAuthLimitOptions) {
    this.count = defineScript(o.redis, 'bjAuthFailure', COUNT_LUA);
    this.localClock = o.localClock ?? monotonicClock;
  }

  /** Whether the client at `ip` is locked out, as far as this process knows. No I/O. */
  check(ip: string): AuthVerdict {
    if (this.o.limit === 0) return OPEN;
    const client = clientOf(ip);
    const until = this.lockedUntil.get(client);
    if (until === undefined) return OPEN;
    const left = until - this.localClock.now();
    if (left > 0) return { locked: true, retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
    this.lockedUntil.delete(client);
    return OPEN;
  }

  /**
   * Counts a failed authentication of the client at `ip` and says whether this attempt was
   * already over the limit (then it is answered 429, not 401). The attempt that reaches the
   * limit locks the client out and is logged once for the fleet, with the address only. When
   * Redis does not answer, the failure goes uncounted (and is logged): the check must not lock
   * everyone out for a Redis outage.
   */
  async failed(ip: string): Promise<AuthVerdict> {
    if (this.o.limit === 0) return OPEN;
    const client = clientOf(ip);
    let failures: number;
    let leftMs: number;
    try {
      const now = this.o.clock ? Math.floor(this.o.clock.now()) : -1;
      const reply = await this.count([this.o.keys.authFailures(client)], [now, 'fail', this.o.windowMs]);
      if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number')
        throw new Error(`failed-authentication count answered ${JSON.stringify(reply)}, expected [n, ms]`);
      [failures, leftMs] = reply as [number, number];
    } catch (err) {
      this.o.logger?.warn({ err, ip }, 'could not count a failed authentication; not limiting it');
      return OPEN;
    }
    if (failures < this.o.limit) return OPEN;
    this.remember(client, leftMs);
    const retryAfterSeconds = Math.max(1, Math.ceil(leftMs / 1000));
    if (failures === this.o.limit) {
      this.o.logger?.warn(
        { ip, ...(client !== ip ? { client } : {}), failures, retryAfterSeconds },
        'client locked out after too many failed authentications',
      );
      return OPEN;
    }
    return { locked: true, retryAfterSeconds };
  }

  private remember(client: string, leftMs: number): void {
    const now = this.localClock.now();
    if (this.lockedUntil.size >= SWEEP_AT) {
      for (const [c, until] of this.lockedUntil) if (until <= now) this.lockedUntil.delete(c);
    }
    this.lockedUntil.set(client, now + leftMs);
  }
}
