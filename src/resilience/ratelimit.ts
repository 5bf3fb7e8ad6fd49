import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ModelCatalog, ResolvedModel } from '../models/catalog.js';
import type { ModelRequest } from '../models/request.js';
import { estimateTokens } from '../models/tokens.js';
import type { RedisClient } from '../redis/connect.js';
import { type Keys, keysFor } from '../redis/keys.js';
import { defineScript, NOW_AND_MODE_LUA, type ScriptRunner } from '../redis/script.js';

/** A model's fleet-wide quota and how the limiter may treat it. */
export interface RateLimits {
  /** Requests per minute. */
  rpm: number;
  /** Input + output tokens per minute. */
  tpm: number;
  /**
   * True when the quota was written in the config: the adaptive rate never goes above it. False
   * when it is the catalog's default: the rate may grow past it (up to `discoverUpTo` times) to
   * find what Bedrock really admits.
   */
  configured: boolean;
  /** Calls a fleet may send at once ahead of the even pace, in seconds of quota. */
  burstSeconds: number;
}

/** The adaptive part of the limiter (`limiter` in the config). */
export interface AdaptiveSettings {
  /** Multiplies the rate on a throttle (AIMD's multiplicative decrease). */
  decreaseFactor: number;
  /** At most one decrease per model per window, for the whole fleet. */
  decreaseWindowMs: number;
  /** While demand meets the rate, it grows by this share of the rate at the last decrease, per second. */
  increasePerSecond: number;
  /** How far above the catalog's default quota an unconfigured rate may grow. */
  discoverUpTo: number;
  /** The rate never drops below this share of the quota. */
  minShare: number;
}

/**
 * The limiter's answer: go after `delayMs` (the slot is taken), or the next slot is `retryAfterMs`
 * away, further than the caller would wait (nothing is taken).
 */
export type Reservation = { ok: true; delayMs: number } | { ok: false; retryAfterMs: number };

/** A model's effective fleet rate now. */
export interface EffectiveRate {
  modelId: string;
  /** Requests and tokens per minute the fleet sends at now. */
  rpm: number;
  tpm: number;
  /** The quota the rate is measured against (configured, or the catalog's default). */
  quota: { rpm: number; tpm: number; configured: boolean };
}

/**
 * Fleet-wide per-model rate limits. The port the policy depends on; {@link RedisRateLimiter}
 * is the implementation every worker process shares.
 */
export interface RateLimiter {
  /** Takes the model's next slot for one request of `tokens`, if it comes within `maxWaitMs`. */
  reserve(modelId: string, tokens: number, maxWaitMs: number): Promise<Reservation>;
  /**
   * Gives back tokens (and requests) reserved but not used. Negative `tokens` charge more,
   * when a call used more than was reserved.
   */
  refund(modelId: string, tokens: number, requests?: number): Promise<void>;
  /** Bedrock throttled a call to the model: the fleet's rate for it goes down. */
  throttled(modelId: string): Promise<void>;
  /** The effective rate of each model, for status, the API and metrics. */
  rates(modelIds: readonly string[]): Promise<EffectiveRate[]>;
}

/**
 * One hash per model ({@link Keys.rateLimit}) holds the fleet's pacing and its adaptive rate,
 * read and written by this one script so every worker sees one state. Time is Redis's own
 * (`TIME`) unless the caller passes one (tests pass a manual clock): one clock for the fleet.
 *
 * Pacing is GCRA (the generic cell rate algorithm): `tr` and `tt` are the theoretical arrival
 * times of the next request and the next token. A caller is given the slot at
 * `max(now, tat - burst)` of both, and each tat moves on from `max(tat, now)` by one interval
 * (60 000 / rate ms per request, per token), so calls leave evenly spaced across the fleet, a
 * cold start lets out at most `burstSeconds` of quota at once, and a slot is reserved in one
 * round trip: the caller sleeps until it instead of asking again. A request larger than the burst is admitted once the debt is paid and leaves a debt of its own,
 * so oversize requests are slow rather than never admitted.
 *
 * The rate is the quota times `m`. A throttle from Bedrock multiplies `m` by `decreaseFactor`,
 * once per `decreaseWindowMs` for the whole fleet (`ld`: the last decrease), and remembers the
 * level it fell from (`w`). While callers have to wait (demand meets the rate) `m` grows, in
 * three gears as TCP's CUBIC does (`li`: the last growth): quickly back towards `w`
 * (`increasePerSecond × w` per second below 0.9 w), gently around it (a tenth of that within
 * ±10 % of w, where Bedrock said no last time), and quickly again well above it (`increasePerSecond × m`,
 * compounding). A configured quota starts with `w` = 1 and caps `m` at 1; a catalog default
 * starts with no `w` (anything above 0 is "well above") and caps `m` at `discoverUpTo`.
 *
 * A burst spends the slack Bedrock's own bucket had, so the paced calls right after it meet a
 * bucket with none, and a few arrive a hair early. Those throttles say the burst was too big,
 * not that the rate is: a throttle within `graceMs` of the last call sent ahead of the even
 * pace (`bu`: it went at once while earlier calls were still ahead of the pace) spends the rest
 * of the burst instead of cutting `m`. Each throttled call gives Bedrock's bucket back a slot,
 * so they stop by themselves; a rate that really is too high is still cut once the grace ends.
 *
 * ARGV[1] now (ms, or -1 for Redis TIME), ARGV[2] mode, then per mode:
 *   take:      ceilR, ceilT, maxM, burstMs, tokens, maxWaitMs, increasePerSecond, holdMs, initial w
 *   refund:    ceilR, ceilT, requests, tokens
 *   throttled: factor, windowMs, minM, ceilR, burstMs, graceMs
 *   peek:      —
 * Returns take: {ok, ms, m}; refund, throttled, peek: {1, 0, m}. `m` is a string (Lua numbers
 * become integers on the way out).
 */
const SCRIPT = `
${NOW_AND_MODE_LUA}
local s = redis.call('HMGET', KEYS[1], 'tr', 'tt', 'm', 'w', 'li', 'ld', 'bu')
local tr = tonumber(s[1]) or now
local tt = tonumber(s[2]) or now
local m = tonumber(s[3]) or 1
local w = tonumber(s[4])
local li = tonumber(s[5]) or now
local ld = tonumber(s[6]) or -1e15
local bu = tonumber(s[7]) or -1e15
-- GCRA lets tolerance / interval + 1 requests through at once: one interval less makes a
-- burst of burstSeconds exactly that many seconds of quota, never one call more.
local function requestTolerance(burst, ceilR)
  return math.max(0, burst - 60000 / (ceilR * m))
end
local reply
if mode == 'take' then
  local ceilR, ceilT, maxM = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  local burst, tokens, maxWait = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
  local grow, hold = tonumber(ARGV[9]), tonumber(ARGV[10])
  w = w or tonumber(ARGV[11])
  if m > maxM then m = maxM end
  local iR = 60000 / (ceilR * m)
  local tauR = requestTolerance(burst, ceilR)
  local debt = tr - now
  local at = math.max(now, tr - tauR, tt - burst)
  if at > now and now - ld >= hold then
    local perSecond
    if m < w * 0.9 then perSecond = grow * w
    elseif m < w * 1.1 then perSecond = grow * 0.1 * w
    else perSecond = grow * m end
    m = math.min(maxM, m + perSecond * math.min(math.max(now - li, 0), 1000) / 1000)
  end
  li = now
  if at - now > maxWait then
    reply = {0, math.max(1, math.ceil(at - now)), tostring(m)}
  else
    if at <= now and debt > iR / 2 and debt < tauR - iR / 2 then bu = now end
    tr = math.max(tr, now) + iR
    tt = math.max(tt, now) + tokens * 60000 / (ceilT * m)
    reply = {1, math.ceil(at - now), tostring(m)}
  end
elseif mode == 'refund' then
  local ceilR, ceilT = tonumber(ARGV[3]), tonumber(ARGV[4])
  tr = tr - tonumber(ARGV[5]) * 60000 / (ceilR * m)
  tt = tt - tonumber(ARGV[6]) * 60000 / (ceilT * m)
  reply = {1, 0, tostring(m)}
elseif mode == 'throttled' then
  w = w or m
  local ceilR, burst = tonumber(ARGV[6]), tonumber(ARGV[7])
  if now - bu <= tonumber(ARGV[8]) then
    -- The burst met a bucket with less slack than it: no more of it until the fleet falls behind.
    tr = math.max(tr, now + requestTolerance(burst, ceilR))
    tt = math.max(tt, now + burst)
  elseif now - ld >= tonumber(ARGV[4]) then
    w = m
    m = math.max(tonumber(ARGV[5]), m * tonumber(ARGV[3]))
    ld = now
  end
  reply = {1, 0, tostring(m)}
else
  return {1, 0, tostring(m)}
end
w = w or 1
redis.call('HSET', KEYS[1], 'tr', tostring(tr), 'tt', tostring(tt), 'm', tostring(m), 'w', tostring(w),
  'li', tostring(li), 'ld', tostring(ld), 'bu', tostring(bu))
redis.call('PEXPIRE', KEYS[1], math.max(0, math.ceil(math.max(tr, tt) - now)) + 3600000)
return reply
`;

export interface RedisRateLimiterOptions {
  /** Our own connection (not BullMQ's); the limiter never closes it. */
  redis: RedisClient;
  /** Key prefix, e.g. `{bj}`. */
  prefix: string;
  /** The quota of a model id; `undefined` means unlimited. See {@link configuredLimits}. */
  limits: (modelId: string) => RateLimits | undefined;
  adaptive: AdaptiveSettings;
  /** Read the time here instead of from Redis `TIME` (tests). */
  clock?: Clock;
}

/** Fleet-wide GCRA pacing with an AIMD rate in Redis, shared by every worker process. */
export class RedisRateLimiter implements RateLimiter {
  private readonly keys: Keys;
  private readonly script: ScriptRunner;

  constructor(private readonly options: RedisRateLimiterOptions) {
    this.keys = keysFor(options.prefix);
    this.script = defineScript(options.redis, 'bjFleetRate', SCRIPT);
  }

  async reserve(modelId: string, tokens: number, maxWaitMs: number): Promise<Reservation> {
    const limits = this.options.limits(modelId);
    if (!limits) return { ok: true, delayMs: 0 };
    const a = this.options.adaptive;
    const [ok, ms] = await this.run(modelId, 'take', [
      limits.rpm,
      limits.tpm,
      limits.configured ? 1 : a.discoverUpTo,
      Math.round(limits.burstSeconds * 1000),
      Math.max(0, Math.round(tokens)),
      Math.max(0, Math.round(maxWaitMs)),
      a.increasePerSecond,
      a.decreaseWindowMs,
      limits.configured ? 1 : 0,
    ]);
    return ok === 1 ? { ok: true, delayMs: ms } : { ok: false, retryAfterMs: ms };
  }

  async refund(modelId: string, tokens: number, requests = 0): Promise<void> {
    const limits = this.options.limits(modelId);
    if (!limits || (tokens === 0 && requests === 0)) return;
    await this.run(modelId, 'refund', [limits.rpm, limits.tpm, requests, Math.round(tokens)]);
  }

  async throttled(modelId: string): Promise<void> {
    const limits = this.options.limits(modelId);
    if (!limits) return;
    const a = this.options.adaptive;
    const burstMs = Math.round(limits.burstSeconds * 1000);
    await this.run(modelId, 'throttled', [
      a.decreaseFactor,
      a.decreaseWindowMs,
      a.minShare,
      limits.rpm,
      burstMs,
      Math.max(burstMs, a.decreaseWindowMs),
    ]);
  }

  async rates(modelIds: readonly string[]): Promise<EffectiveRate[]> {
    const out: EffectiveRate[] = [];
    for (const modelId of modelIds) {
      const limits = this.options.limits(modelId);
      if (!limits) continue;
      const [, , m] = await this.run(modelId, 'peek', []);
      out.push({
        modelId,
        rpm: limits.rpm * m,
        tpm: limits.tpm * m,
        quota: { rpm: limits.rpm, tpm: limits.tpm, configured: limits.configured },
      });
    }
    return out;
  }

  /** The Redis key of a model's pacing and rate. */
  key(modelId: string): string {
    return this.keys.rateLimit(modelId);
  }

  private async run(
    modelId: string,
    mode: string,
    args: (string | number)[],
  ): Promise<[number, number, number]> {
    const now = this.options.clock ? Math.floor(this.options.clock.now()) : -1;
    return parseReply(await this.script([this.key(modelId)], [now, mode, ...args]));
  }
}

function parseReply(reply: unknown): [number, number, number] {
  if (Array.isArray(reply) && typeof reply[0] === 'number' && typeof reply[1] === 'number') {
    const m = Number(reply[2]);
    if (Number.isFinite(m)) return [reply[0], reply[1], m];
  }
  throw new Error(`rate limit script answered ${JSON.stringify(reply)}, expected [ok, ms, m]`);
}

/**
 * Quotas from the config (`models[id].rpm/tpm`, by the id as sent, else its base id) or
 * else the catalog's default quotas for the model, which the adaptive rate may then grow
 * past. Ids the catalog cannot resolve are unlimited here (they are refused at enqueue).
 */
export function configuredLimits(
  config: Config,
  catalog: ModelCatalog,
): (modelId: string) => RateLimits | undefined {
  return (modelId) => {
    const model = catalog.resolve(modelId);
    if (!model) return undefined;
    const own = config.models[model.requestId] ?? config.models[model.baseId];
    return {
      rpm: own?.rpm ?? model.info.rpm,
      tpm: own?.tpm ?? model.info.tpm,
      configured: own?.rpm !== undefined || own?.tpm !== undefined,
      burstSeconds: own?.burstSeconds ?? config.limiter.burstSeconds,
    };
  };
}

/**
 * Tokens to reserve for a call before it is made, as Bedrock does: the estimated input
 * plus the requested `maxTokens` (or the model's output limit). Corrected after the call
 * with {@link RateLimiter.refund}.
 */
export function reservationTokens(model: ResolvedModel, request: ModelRequest): number {
  let input = request.system ? estimateTokens(request.system, model.family) : 0;
  for (const m of request.messages) input += estimateTokens(m.content, model.family);
  return input + (request.params?.maxTokens ?? model.info.maxOutputTokens);
}
