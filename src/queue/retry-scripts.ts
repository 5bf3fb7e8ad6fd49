import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';
import { SUPERSEDE_LUA } from '../results/supersede.js';

/** Claim tokens are uuids (as in `./claim.ts`). */
const TOKEN_LENGTH = 36;
/** Ends the value of a claim a retry holds, so another retry can tell it from an enqueue's. */
const RETRY_MARK = '\nretry';
/** ARGV index (Lua, 1-based) of the first job id of the decide script. */
const FIRST_ID = 4;

/**
 * What the decide script made of one id: claimed for this retry (`retry`, `restore`), taken up
 * from a retry that died (`resumed`), or left alone and why (the rest; {@link DECIDE_LUA}).
 */
export type RetryDecision =
  | 'retry'
  | 'restore'
  | 'resumed'
  | 'completed'
  | 'pending'
  | 'busy'
  | 'expired'
  | 'missing'
  | 'unknown';

/*
 * A retry runs in this order, so that a job always has its failed result or is queued, wherever
 * the process doing it dies (`../results/supersede.ts`), and the next retry takes up what it left:
 *
 * 1. DECIDE_LUA picks the ids to retry and claims them; nothing else changes.
 * 2. The payload of each is read from its failed job.
 * 3. COMMIT_LUA raises each id's generation, stops counting its failed result in the batch
 *    (reopening it), and sets the payload aside (`retrying` key).
 * 4. The failed job is removed and added again, carrying the new generation.
 * 5. SETTLE_LUA deletes the failed results the new jobs replace (unless their new results did
 *    already) and drops the payloads set aside and the claims.
 *
 * Stopped after 1 or 2, nothing changed but a claim that runs out. After 3, the failed job is
 * still there (retried again), or the payload is set aside (`restore`: added from it). After 4,
 * the job is queued (`resumed`: its failed result is deleted). Steps 2 and 4, and the pages,
 * are `FailedRetries` (`./retry-failed.ts`).
 */

/**
 * Decides, atomically, which ids of a batch to retry, and claims them for this retry.
 *
 * - `retry`: a failed result and a job BullMQ still keeps.
 * - `restore`: a failed result the batch no longer counts, no job, and its payload set aside: a
 *   retry died between removing the failed job and adding it again.
 * - `resumed`: a failed result the batch no longer counts, and a job that is not failed: a retry
 *   queued it again and died before deleting the failed result, which is deleted now.
 * - left alone: `completed`, `pending` (no result: queued, running, or failed by the queue and
 *   about to get its result from a worker's sweep), `busy` (another retry holds its claim),
 *   `expired` (failed, but BullMQ no longer keeps the payload), `missing` (neither result nor
 *   job), `unknown` (not in the batch).
 *
 * KEYS: batch id set, batch retries hash, BullMQ failed set, then per id: result, BullMQ job,
 * claim, set-aside payload. ARGV: claim ttl s, token, batch id, then the ids.
 * Returns the code of each id.
 */
const DECIDE_LUA = `${SUPERSEDE_LUA}
local mark = '${RETRY_MARK.replace('\n', '\\n')}'
local value = ARGV[2] .. ARGV[3] .. mark
local codes = {}
for i = ${FIRST_ID}, #ARGV do
  local k = 4 + (i - ${FIRST_ID}) * 4
  local id = ARGV[i]
  local code
  if redis.call('SISMEMBER', KEYS[1], id) == 0 then
    code = 'unknown'
  else
    local claim = redis.call('GET', KEYS[k + 2])
    local raw = redis.call('GET', KEYS[k])
    local rec = failedRecord(raw)
    if claim and string.sub(claim, 1, ${TOKEN_LENGTH}) ~= ARGV[2] and string.sub(claim, -#mark) == mark then
      code = 'busy'
    elseif not raw then
      code = redis.call('EXISTS', KEYS[k + 1]) == 1 and 'pending' or 'missing'
    elseif not rec then
      code = 'completed'
    else
      local current = tonumber(redis.call('HGET', KEYS[2], id) or '0')
      -- The batch stopped counting it: a retry got past its commit and stopped.
      local uncounted = current > (tonumber(rec.retry) or 0)
      if redis.call('EXISTS', KEYS[k + 1]) == 1 then
        code = (uncounted and not redis.call('ZSCORE', KEYS[3], id)) and 'resumed' or 'retry'
      elseif uncounted and redis.call('EXISTS', KEYS[k + 3]) == 1 then
        code = 'restore'
      else
        code = 'expired'
      end
      if code == 'resumed' then
        dropSuperseded(KEYS[k], current)
        redis.call('DEL', KEYS[k + 3])
      end
    end
  end
  if code == 'retry' or code == 'restore' then redis.call('SET', KEYS[k + 2], value, 'EX', ARGV[1]) end
  codes[#codes + 1] = code
end
return codes
`;

/**
 * Commits the ids this retry still holds (their claim is its own): the generation goes up (the
 * new job carries it, and the save script refuses any result of an older one, such as a late
 * write of the attempt that failed), the batch stops counting the failed result unless a retry
 * before did already (and reopens when it was done), the split stage of a long document is
 * dropped, and the payload is set aside when one is given.
 * KEYS: batch hash, batch retries hash, then per id: result, claim, split stage, set-aside
 * payload. ARGV: claim value, batch ttl s, then per id: the id and its payload ('' to keep the
 * one set aside). Returns each id's new generation, 0 for an id no longer held.
 */
const COMMIT_LUA = `${SUPERSEDE_LUA}
local gens = {}
for i = 3, #ARGV, 2 do
  local k = 3 + (i - 3) * 2
  local id = ARGV[i]
  local gen = 0
  if redis.call('GET', KEYS[k + 1]) == ARGV[1] then
    local rec = failedRecord(redis.call('GET', KEYS[k]))
    local current = tonumber(redis.call('HGET', KEYS[2], id) or '0')
    if rec and (tonumber(rec.retry) or 0) >= current then uncountFailed(KEYS[1], rec) end
    gen = redis.call('HINCRBY', KEYS[2], id, 1)
    redis.call('DEL', KEYS[k + 2])
    if ARGV[i + 1] ~= '' then redis.call('SET', KEYS[k + 3], ARGV[i + 1], 'EX', ARGV[2]) end
  end
  gens[#gens + 1] = gen
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return gens
`;

/**
 * Ends a retry's page: deletes the failed result of each job queued again (unless its new result
 * replaced it already), and drops this retry's claims and the payloads it set aside.
 * KEYS: per id: result, claim, set-aside payload. ARGV: the claim value, then per id the
 * generation it was queued with, or 0 when it was not (its failed job is still there).
 */
const SETTLE_LUA = `${SUPERSEDE_LUA}
for i = 2, #ARGV do
  local k = 1 + (i - 2) * 3
  local gen = tonumber(ARGV[i])
  if gen > 0 then dropSuperseded(KEYS[k], gen) end
  -- Held no more (it ran out): another retry took the id over, and the payload is its to drop.
  if redis.call('GET', KEYS[k + 1]) == ARGV[1] then redis.call('DEL', KEYS[k + 1], KEYS[k + 2]) end
end
return 0
`;

/** The value of the claims a retry holds on a batch's ids: its token, the batch, the retry mark. */
export function retryClaimValue(token: string, batchId: string): string {
  return `${token}${batchId}${RETRY_MARK}`;
}

/** What the scripts use: the producer's connection and keys, and how long what they write lives. */
export interface RetryScriptsDeps {
  redis: RedisClient;
  keys: Keys;
  claimTtlSeconds: number;
  batchTtlSeconds: number;
}

/** The three steps of a retry in Redis, each over a page of ids, with the keys each script reads. */
export class RetryScripts {
  private readonly decideScript: ScriptRunner;
  private readonly commitScript: ScriptRunner;
  private readonly settleScript: ScriptRunner;

  constructor(private readonly deps: RetryScriptsDeps) {
    this.decideScript = defineScript(deps.redis, 'bjRetryDecide', DECIDE_LUA);
    this.commitScript = defineScript(deps.redis, 'bjRetryCommit', COMMIT_LUA);
    this.settleScript = defineScript(deps.redis, 'bjSettleRetry', SETTLE_LUA);
  }

  /** Decides each of `ids` and claims those to retry with `token` ({@link DECIDE_LUA}); one code per id. */
  async decide(batchId: string, ids: readonly string[], token: string): Promise<RetryDecision[]> {
    const { keys } = this.deps;
    const decideKeys = [keys.batchJobs(batchId), keys.batchRetries(batchId), keys.bullFailed];
    for (const id of ids)
      decideKeys.push(keys.result(id), keys.bullJob(id), keys.claim(id), keys.retrying(id));
    const reply = await this.decideScript(decideKeys, [this.deps.claimTtlSeconds, token, batchId, ...ids]);
    if (!Array.isArray(reply))
      throw new Error(`unexpected reply from the retry script: ${JSON.stringify(reply)}`);
    return reply.map(String) as RetryDecision[];
  }

  /**
   * Commits the ids with a payload ({@link COMMIT_LUA}; `aside` '' keeps the one set aside);
   * returns each one's new generation (0: not held).
   */
  async commit(
    batchId: string,
    claimValue: string,
    payloads: ReadonlyMap<string, { aside: string }>,
  ): Promise<Map<string, number>> {
    if (payloads.size === 0) return new Map();
    const { keys } = this.deps;
    const commitKeys = [keys.batch(batchId), keys.batchRetries(batchId)];
    const args: (string | number)[] = [claimValue, this.deps.batchTtlSeconds];
    for (const [id, { aside }] of payloads) {
      commitKeys.push(keys.result(id), keys.claim(id), keys.splitStage(id), keys.retrying(id));
      args.push(id, aside);
    }
    const reply = await this.commitScript(commitKeys, args);
    if (!Array.isArray(reply) || reply.length !== payloads.size) {
      throw new Error(`unexpected reply from the retry commit script: ${JSON.stringify(reply)}`);
    }
    return new Map([...payloads.keys()].map((id, i) => [id, Number(reply[i])]));
  }

  /**
   * Ends a page ({@link SETTLE_LUA}): `queuedWith` maps each id claimed to the generation it was
   * queued with, 0 when it was not.
   */
  async settle(claimValue: string, queuedWith: ReadonlyMap<string, number>): Promise<void> {
    if (queuedWith.size === 0) return;
    const { keys } = this.deps;
    const settleKeys: string[] = [];
    for (const id of queuedWith.keys()) settleKeys.push(keys.result(id), keys.claim(id), keys.retrying(id));
    await this.settleScript(settleKeys, [claimValue, ...queuedWith.values()]);
  }
}
