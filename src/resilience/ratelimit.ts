import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ModelCatalog, ResolvedModel } from '../models/catalog.js';
import type { ModelRequest } from '../models/request.js';
import { estimateTokens } from '../models/tokens.js';
import { type Keys, keysFor } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';

/** A model's fleet-wide quota. */
export interface RateLimits {
  /** Requests per minute. */
  rpm: number;
  /** Input + output tokens per minute. */
  tpm: number;
}

/** The limiter's answer: go, or wait at least `retryAfterMs` before asking again. */
export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

/**
 * Fleet-wide per-model rate limits. The port the policy depends on; {@link RedisRateLimiter}
 * is the implementation every worker process shares.
 */
export interface RateLimiter {
  /** Takes one request and `tokens` tokens from the model's buckets, or says how long to wait. */
  acquire(modelId: string, tokens: number): Promise<Admission>;
  /**
   * Gives back tokens (and requests) reserved but not used. Negative `tokens` charge more,
   * when a call used more than was reserved.
   */
  refund(modelId: string, tokens: number, requests?: number): Promise<void>;
}

/**
 * Two token buckets per model in one hash ({@link Keys.rateLimit}, `<prefix>:rl:<modelId>`): `r` requests and `t`
 * tokens, both full at a minute's quota and refilled continuously, and `ts`, the time they
 * were last refilled. Reading, refilling and taking happen in this one script, so every
 * worker sees one budget. The time is Redis's own (`TIME`) unless the caller passes one
 * (tests pass a manual clock); one clock for the fleet means no skew between workers.
 *
 * A request larger than a full bucket is admitted when the bucket is full and leaves it in
 * debt, so oversize requests are slow rather than never admitted. The key expires once both
 * buckets would be full again: an absent key means full buckets.
 *
 * ARGV: now (ms, or -1 for Redis TIME), rpm, tpm, requests, tokens, mode ('take'|'refund').
 * Returns {1, 0} when admitted (or refunded), {0, waitMs} otherwise.
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local wantR = tonumber(ARGV[4])
local wantT = tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 'r', 't', 'ts')
local r = tonumber(s[1]) or rpm
local tk = tonumber(s[2]) or tpm
local ts = tonumber(s[3]) or now
local elapsed = math.max(0, now - ts)
r = math.min(rpm, r + elapsed * rpm / 60000)
tk = math.min(tpm, tk + elapsed * tpm / 60000)
local result
if ARGV[6] == 'refund' then
  r = math.min(rpm, r + wantR)
  tk = math.min(tpm, tk + wantT)
  result = {1, 0}
else
  local needT = math.min(wantT, tpm)
  if r >= wantR and tk >= needT then
    r = r - wantR
    tk = tk - wantT
    result = {1, 0}
  else
    local waitR = 0
    if r < wantR then waitR = (wantR - r) * 60000 / rpm end
    local waitT = 0
    if tk < needT then waitT = (needT - tk) * 60000 / tpm end
    result = {0, math.max(1, math.ceil(math.max(waitR, waitT)))}
  end
end
local fullIn = math.max((rpm - r) / rpm, (tpm - tk) / tpm) * 60000
redis.call('HSET', KEYS[1], 'r', tostring(r), 't', tostring(tk), 'ts', tostring(math.max(ts, now)))
redis.call('PEXPIRE', KEYS[1], math.ceil(fullIn) + 1000)
return result
`;

export interface RedisRateLimiterOptions {
  /** Our own connection (not BullMQ's); the limiter never closes it. */
  redis: Redis;
  /** Key prefix, e.g. `{bj}`. */
  prefix: string;
  /** The quota of a model id; `undefined` means unlimited. See {@link configuredLimits}. */
  limits: (modelId: string) => RateLimits | undefined;
  /** Read the time here instead of from Redis `TIME` (tests). */
  clock?: Clock;
}

/** Fleet-wide token buckets in Redis, shared by every worker process. */
export class RedisRateLimiter implements RateLimiter {
  private readonly keys: Keys;
  private readonly script: ScriptRunner;

  constructor(private readonly options: RedisRateLimiterOptions) {
    this.keys = keysFor(options.prefix);
    this.script = defineScript(options.redis, 'bjRateLimit', SCRIPT);
  }

  async acquire(modelId: string, tokens: number): Promise<Admission> {
    const limits = this.options.limits(modelId);
    if (!limits) return { ok: true };
    const [ok, waitMs] = await this.run(modelId, limits, 1, Math.max(0, tokens), 'take');
    return ok === 1 ? { ok: true } : { ok: false, retryAfterMs: waitMs };
  }

  async refund(modelId: string, tokens: number, requests = 0): Promise<void> {
    const limits = this.options.limits(modelId);
    if (!limits || (tokens === 0 && requests === 0)) return;
    await this.run(modelId, limits, requests, tokens, 'refund');
  }

  /** The Redis key of a model's buckets. */
  key(modelId: string): string {
    return this.keys.rateLimit(modelId);
  }

  private async run(
    modelId: string,
    limits: RateLimits,
    requests: number,
    tokens: number,
    mode: 'take' | 'refund',
  ): Promise<[number, number]> {
    const now = this.options.clock ? Math.floor(this.options.clock.now()) : -1;
    const args = [now, limits.rpm, limits.tpm, requests, Math.round(tokens), mode];
    return parseReply(await this.script([this.key(modelId)], args));
  }
}

function parseReply(reply: unknown): [number, number] {
  if (Array.isArray(reply) && typeof reply[0] === 'number' && typeof reply[1] === 'number') {
    return [reply[0], reply[1]];
  }
  throw new Error(`rate limit script answered ${JSON.stringify(reply)}, expected [ok, waitMs]`);
}

/**
 * Quotas from the config (`models[id].rpm/tpm`, by the id as sent, else its base id) or
 * else the catalog's default quotas for the model. Ids the catalog cannot resolve are
 * unlimited here (they are refused at enqueue).
 */
export function configuredLimits(
  config: Config,
  catalog: ModelCatalog,
): (modelId: string) => RateLimits | undefined {
  return (modelId) => {
    const model = catalog.resolve(modelId);
    if (!model) return undefined;
    const own = config.models[model.requestId] ?? config.models[model.baseId];
    return { rpm: own?.rpm ?? model.info.rpm, tpm: own?.tpm ?? model.info.tpm };
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

/** How a wait for the limiter ended. */
export type AdmissionWait =
  | { outcome: 'admitted'; waitedMs: number }
  /** The next slot is further away than the wait allowed. */
  | { outcome: 'limited'; retryAfterMs: number; waitedMs: number }
  | { outcome: 'aborted'; waitedMs: number };

/**
 * Asks the limiter until it admits, sleeping as long as it says each time, up to `maxWaitMs`
 * in all. Gives up at once when the next slot is further away than the wait left, so a local
 * throttle costs no call and no pointless sleep.
 */
export async function waitForAdmission(
  limiter: RateLimiter,
  modelId: string,
  tokens: number,
  options: { maxWaitMs: number; clock: Clock; signal?: AbortSignal; onWait?: (waitMs: number) => void },
): Promise<AdmissionWait> {
  let waitedMs = 0;
  for (;;) {
    const admission = await limiter.acquire(modelId, tokens);
    if (admission.ok) return { outcome: 'admitted', waitedMs };
    const { retryAfterMs } = admission;
    if (waitedMs + retryAfterMs > options.maxWaitMs) return { outcome: 'limited', retryAfterMs, waitedMs };
    options.onWait?.(retryAfterMs);
    try {
      await options.clock.sleep(retryAfterMs, options.signal);
    } catch {
      return { outcome: 'aborted', waitedMs };
    }
    waitedMs += retryAfterMs;
  }
}
