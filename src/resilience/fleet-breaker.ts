import type { Clock } from '../clock.js';
import type { RedisClient } from '../redis/connect.js';
import { type Keys, keysFor } from '../redis/keys.js';
import { defineScript, NOW_AND_MODE_LUA, type ScriptRunner } from '../redis/script.js';

/**
 * What the fleet says about a model before a call: `closed` (call as usual, through the local
 * breaker), `open` (refuse without a call), or `probe` (this worker won the one half-open probe
 * of the fleet and makes it). `readAt` is when this worker read a `closed` verdict from Redis
 * (on its own clock): a local breaker that opened after that is newer than the verdict.
 */
export type FleetVerdict =
  | { state: 'closed'; readAt: number }
  | { state: 'open'; retryAfterMs: number }
  | { state: 'probe' };

/** The fleet's breaker of one model: `open` until a probe is due in `probeInMs` (0: due now). */
export type FleetBreakerView = { state: 'closed' } | { state: 'open'; probeInMs: number };

/**
 * One hash per model ({@link Keys.breaker}): `until`, when the open breaker lets a probe
 * through; no hash means closed. The probe is a key taken with SET NX,
 * so one worker of the fleet probes and the others keep refusing until it answers (or its
 * probe key lapses, should it die mid-probe).
 *
 * ARGV[1] now (ms, or -1 for Redis TIME), ARGV[2] mode, then:
 *   check:  probe token, probe ttl ms
 *   peek:   — (as check, read-only: never takes the probe)
 *   open:   half-open after ms (an open breaker is only moved further out)
 *   close:  probe token
 *   reopen: half-open after ms, probe token
 * Returns {code, ms}: check → {0, 0} closed, {1, retryAfterMs} open, {2, 0} probe,
 * {3, probe ttl} open while another worker's probe is in flight.
 */
const SCRIPT = `
${NOW_AND_MODE_LUA}
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'until'))
if mode == 'check' then
  if not openUntil then return {0, 0} end
  if now < openUntil then return {1, openUntil - now} end
  if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return {2, 0} end
  return {3, math.max(1, redis.call('PTTL', KEYS[2]))}
elseif mode == 'peek' then
  if not openUntil then return {0, 0} end
  return {1, math.max(0, openUntil - now)}
elseif mode == 'open' then
  local at = now + tonumber(ARGV[3])
  if not openUntil or openUntil < at then redis.call('HSET', KEYS[1], 'until', at) end
elseif mode == 'close' then
  redis.call('DEL', KEYS[1])
  if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
elseif mode == 'reopen' then
  redis.call('HSET', KEYS[1], 'until', now + tonumber(ARGV[3]))
  if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
end
redis.call('PEXPIRE', KEYS[1], 86400000)
return {0, 0}
`;

export interface FleetBreakerOptions {
  /** Our own connection (not BullMQ's); never closed here. */
  redis: RedisClient;
  prefix: string;
  /** A worker's name, unique in the fleet: the probe key names its owner. */
  owner: string;
  /** How long a verdict of `open` or `closed` is trusted before Redis is asked again. */
  refreshMs: number;
  /** How long a probe may take before another worker may make it. */
  probeTimeoutMs: number;
  /** The fleet's clock (tests); Redis `TIME` when absent. The cache always uses `localClock`. */
  clock?: Clock;
  localClock: Clock;
}

/**
 * Breaker state shared by every worker of the fleet. The per-process breakers stay the fast
 * path: they count failures and open first; opening is published here, and every worker reads
 * the fleet's verdict (cached for `refreshMs`) before calling, so a model one worker found dead
 * is left alone by all within `refreshMs`, and one probe, not one per worker, tests it again.
 */
export class FleetBreakers {
  private readonly keys: Keys;
  private readonly script: ScriptRunner;
  private readonly cache = new Map<string, { verdict: FleetVerdict; at: number }>();

  constructor(private readonly o: FleetBreakerOptions) {
    this.keys = keysFor(o.prefix);
    this.script = defineScript(o.redis, 'bjFleetBreaker', SCRIPT);
  }

  /** The fleet's verdict on calling `modelId` now; a `probe` verdict must be answered. */
  async check(modelId: string): Promise<FleetVerdict> {
    const cached = this.cache.get(modelId);
    const local = this.o.localClock.now();
    if (cached && local - cached.at < this.o.refreshMs) {
      if (cached.verdict.state === 'closed') return cached.verdict;
      if (cached.verdict.state === 'open' && cached.verdict.retryAfterMs > local - cached.at) {
        return { state: 'open', retryAfterMs: cached.verdict.retryAfterMs - (local - cached.at) };
      }
    }
    const [code, ms] = await this.run(modelId, 'check', [this.o.owner, this.o.probeTimeoutMs]);
    const verdict: FleetVerdict =
      code === 0
        ? { state: 'closed', readAt: local }
        : code === 2
          ? { state: 'probe' }
          : { state: 'open', retryAfterMs: ms };
    // While another worker probes, its answer may come any moment: ask again next time.
    if (code === 0 || code === 1) this.cache.set(modelId, { verdict, at: local });
    else this.cache.delete(modelId);
    return verdict;
  }

  /** The fleet's breaker of a model as it stands, read-only: for status, the API and metrics. */
  async peek(modelId: string): Promise<FleetBreakerView> {
    const [code, ms] = await this.run(modelId, 'peek', []);
    return code === 0 ? { state: 'closed' } : { state: 'open', probeInMs: ms };
  }

  /** A local breaker opened: the fleet refuses calls to the model for `halfOpenAfterMs`. */
  async opened(modelId: string, halfOpenAfterMs: number): Promise<void> {
    this.cache.set(modelId, {
      verdict: { state: 'open', retryAfterMs: halfOpenAfterMs },
      at: this.o.localClock.now(),
    });
    await this.run(modelId, 'open', [halfOpenAfterMs]);
  }

  /** This worker's probe found the model well: the fleet calls it again. */
  async probeSucceeded(modelId: string): Promise<void> {
    this.cache.delete(modelId);
    await this.run(modelId, 'close', [this.o.owner]);
  }

  /** This worker's probe failed: the model stays open for another `halfOpenAfterMs`. */
  async probeFailed(modelId: string, halfOpenAfterMs: number): Promise<void> {
    this.cache.set(modelId, {
      verdict: { state: 'open', retryAfterMs: halfOpenAfterMs },
      at: this.o.localClock.now(),
    });
    await this.run(modelId, 'reopen', [halfOpenAfterMs, this.o.owner]);
  }

  private async run(modelId: string, mode: string, args: (string | number)[]): Promise<[number, number]> {
    const now = this.o.clock ? Math.floor(this.o.clock.now()) : -1;
    const reply = await this.script(
      [this.keys.breaker(modelId), this.keys.breakerProbe(modelId)],
      [now, mode, ...args],
    );
    if (Array.isArray(reply) && typeof reply[0] === 'number' && typeof reply[1] === 'number')
      return [reply[0], reply[1]];
    throw new Error(`fleet breaker script answered ${JSON.stringify(reply)}, expected [code, ms]`);
  }
}
