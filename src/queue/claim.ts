import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';

/**
 * What the claim script decided for one id: add it (`new`; `repair` when an earlier enqueue of the
 * same batch claimed it but never added it), or not, because it has a result
 * (`completed`/`failed`), BullMQ holds it (`bull`), it came earlier in this same call (`again`:
 * in this slice, or in an earlier slice of the call, whose claim token it holds), or an enqueue
 * of another batch is adding it right now (`claimed`).
 */
export type ClaimCode = 'new' | 'repair' | 'again' | 'completed' | 'failed' | 'bull' | 'claimed';

export interface ClaimOutcome {
  codes: ClaimCode[];
  /**
   * Per id, the generation a job added now must carry (`retry`): above 0 for an id whose failed
   * result a retry on purpose superseded (`./retry-failed.ts`), so its result is not refused as stale.
   */
  generations: number[];
  /** How many ids were new to the batch and were added to its `total`. */
  counted: number;
  /**
   * The batch is done, and this call would have added jobs to it or changed its callback:
   * nothing was claimed or changed (the claims of `drop` were still dropped).
   */
  refused: boolean;
}

/** How many of the newest batches the index of recent batches keeps ({@link Keys.batchIndex}). */
export const BATCH_INDEX_CAP = 1000;

/** Claim tokens are uuids; the owner (batch id) follows the token in the claim's value. */
const TOKEN_LENGTH = 36;
/** ARGV index (Lua, 1-based) of the first job id. */
const FIRST_ID = 8;

/**
 * Decides, atomically, which ids this enqueue may add, and counts them in the batch.
 * An id is new when it has no result, no BullMQ job and no claim. New ids get a short-lived
 * claim (the window until BullMQ holds them) and join the batch's id set; only ids that were
 * not yet in that set add to `total`, so re-enqueueing a batch never counts a job twice and
 * `total == completed + failed` when the batch is done.
 *
 * A claim is never taken as proof that the job is queued: a producer can die between this
 * script and BullMQ's add. When the same batch is enqueued again and finds its own batch's
 * claim with no BullMQ job behind it, the id is claimed anew and added (`repair`). Should the
 * first producer still be alive and add it too, BullMQ keeps one job per id, so the job runs once.
 * Every slice of one call claims with the call's token, so a claim holding that very token is
 * the same call's, taken by an earlier slice whose add may still be on its way (`again`).
 *
 * The script also drops claims the call took for slices BullMQ now holds (as the drop script
 * does, before anything else), which saves a round trip per slice.
 *
 * Sealing (`docs/architecture.md#batches`): a batch that gains jobs is open (`sealed` = '0')
 * until the producer seals it, so it cannot be done between two parts of an enqueue. A batch
 * that is already done takes no new job and no other callback: the call is refused whole,
 * before anything is written. A callback given for a batch not yet done replaces the one before.
 * A batch seen for the first time joins the index of recent batches (capped at
 * {@link BATCH_INDEX_CAP}, the oldest dropped), scored by Redis time. Each id to add is told its
 * generation (the batch's retries hash, read only when the batch has one), which the job then
 * carries.
 * KEYS: batch hash, batch id set, batch retries hash, then per job: result, BullMQ job, claim;
 * then the batch index; last the claims to drop.
 * ARGV: claim ttl s, batch ttl s, has batch ('1'/'0'), token, owner, callback url ('' for
 * none), callback on, then the job ids.
 */
const CLAIM_LUA = `
local hasBatch = ARGV[3] == '1'
local value = ARGV[4] .. ARGV[5]
local index = 4 + (#ARGV - ${FIRST_ID} + 1) * 3
for i = index + 1, #KEYS do
  if redis.call('GET', KEYS[i]) == value then redis.call('DEL', KEYS[i]) end
end
local hasRetries = hasBatch and redis.call('EXISTS', KEYS[3]) == 1
local codes = {}
local gens = {}
local first = {}
local fresh = 0
for i = ${FIRST_ID}, #ARGV do
  local k = 4 + (i - ${FIRST_ID}) * 3
  local id = ARGV[i]
  local code = first[id]
  if code == 'new' or code == 'repair' then
    code = 'again'
  elseif not code then
    local result = redis.call('GET', KEYS[k])
    if result then
      local ok, rec = pcall(cjson.decode, result)
      code = (ok and type(rec) == 'table' and rec.status == 'failed') and 'failed' or 'completed'
    elseif redis.call('EXISTS', KEYS[k + 1]) == 1 then
      code = 'bull'
    else
      local claim = redis.call('GET', KEYS[k + 2])
      if claim == value then
        code = 'again'
      elseif claim and string.sub(claim, ${TOKEN_LENGTH + 1}) ~= ARGV[5] then
        code = 'claimed'
      else
        code = claim and 'repair' or 'new'
      end
    end
    first[id] = code
  end
  codes[#codes + 1] = code
  gens[#gens + 1] = 0
  if code == 'new' or code == 'repair' then
    fresh = fresh + 1
    if hasRetries then gens[#gens] = tonumber(redis.call('HGET', KEYS[3], ARGV[i]) or '0') end
  end
end
local done = false
if hasBatch then
  local b = redis.call('HMGET', KEYS[1], 'doneAt', 'callbackUrl', 'callbackOn')
  done = b[1] ~= false
  local otherCallback = ARGV[6] ~= '' and (ARGV[6] ~= b[2] or ARGV[7] ~= b[3])
  if done and (fresh > 0 or otherCallback) then return { 0, {}, 1, {} } end
end
local counted = 0
for i = ${FIRST_ID}, #ARGV do
  if codes[i - ${FIRST_ID} + 1] == 'new' or codes[i - ${FIRST_ID} + 1] == 'repair' then
    local k = 4 + (i - ${FIRST_ID}) * 3
    redis.call('SET', KEYS[k + 2], value, 'EX', ARGV[1])
    if hasBatch and redis.call('SADD', KEYS[2], ARGV[i]) == 1 then counted = counted + 1 end
  end
end
if hasBatch then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    local t = redis.call('TIME')
    redis.call('ZADD', KEYS[index], 'NX', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[5])
    redis.call('ZREMRANGEBYRANK', KEYS[index], 0, -${BATCH_INDEX_CAP + 1})
  end
  if counted > 0 then
    redis.call('HINCRBY', KEYS[1], 'total', counted)
    redis.call('HSET', KEYS[1], 'sealed', '0')
  end
  redis.call('HSETNX', KEYS[1], 'total', 0)
  redis.call('HSETNX', KEYS[1], 'sealed', '0')
  if ARGV[6] ~= '' and not done then redis.call('HSET', KEYS[1], 'callbackUrl', ARGV[6], 'callbackOn', ARGV[7]) end
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
end
return { counted, codes, 0, gens }
`;

/**
 * Undoes claims whose jobs BullMQ does not hold after a failed add (a job BullMQ did take keeps
 * its claim and its count). KEYS/ARGV as the claim script; returns how many were undone.
 */
const RELEASE_LUA = `
local undone = 0
local value = ARGV[4] .. ARGV[5]
for i = ${FIRST_ID}, #ARGV do
  local k = 4 + (i - ${FIRST_ID}) * 3
  if redis.call('EXISTS', KEYS[k + 1]) == 0 and redis.call('GET', KEYS[k + 2]) == value then
    redis.call('DEL', KEYS[k + 2])
    if ARGV[3] == '1' and redis.call('SREM', KEYS[2], ARGV[i]) == 1 then
      redis.call('HINCRBY', KEYS[1], 'total', -1)
    end
    undone = undone + 1
  end
end
return undone
`;

/**
 * Drops this call's claims once BullMQ holds their jobs: from then on the job itself, and its
 * result after it, is what tells an enqueue the id is taken, so the claim would only cost memory
 * until it expired. A claim another call holds now (a repair, a retry) is left alone.
 * KEYS: the claims. ARGV: the claim value (token, owner).
 */
const DROP_LUA = `
local dropped = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    dropped = dropped + 1
  end
end
return dropped
`;

export interface ClaimRequest {
  ids: readonly string[];
  /**
   * Ids whose claims this call took for an earlier slice that BullMQ now holds: the claim
   * script drops them on its way (only where the claim is still this call's).
   */
  drop?: readonly string[];
  batchId?: string;
  /** Set on the batch unless it is done (then it must be the one it has). */
  callback?: { url: string; on: string };
  /** The call's claim token: the same for every slice of one call. */
  token: string;
  claimTtlSeconds: number;
  batchTtlSeconds: number;
}

/** The claim, release and drop scripts bound to one connection and key set. */
export class Claims {
  private readonly claimScript: ScriptRunner;
  private readonly releaseScript: ScriptRunner;
  private readonly dropScript: ScriptRunner;

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.claimScript = defineScript(redis, 'bjClaimJobs', CLAIM_LUA);
    this.releaseScript = defineScript(redis, 'bjReleaseJobs', RELEASE_LUA);
    this.dropScript = defineScript(redis, 'bjDropClaims', DROP_LUA);
  }

  /**
   * Claims the ids that are new and counts them in the batch; one code per id, in order. Drops
   * the claims of `req.drop` first, even when the call is refused.
   */
  async claim(req: ClaimRequest): Promise<ClaimOutcome> {
    const keys = this.scriptKeys(req);
    for (const id of req.drop ?? []) keys.push(this.keys.claim(id));
    const reply = await this.claimScript(keys, this.scriptArgs(req));
    if (!Array.isArray(reply) || !Array.isArray(reply[1]) || !Array.isArray(reply[3])) {
      throw new Error(`unexpected reply from the claim script: ${JSON.stringify(reply)}`);
    }
    return {
      counted: Number(reply[0]),
      codes: reply[1].map(String) as ClaimCode[],
      refused: Number(reply[2]) === 1,
      generations: reply[3].map(Number),
    };
  }

  /** Releases claims of `ids` that BullMQ did not take (after an add failed). */
  async release(req: ClaimRequest): Promise<number> {
    return Number(await this.releaseScript(this.scriptKeys(req), this.scriptArgs(req)));
  }

  /**
   * Drops the claims of `ids`, taken by `req`, once BullMQ holds their jobs (after an add
   * succeeded). A producer that dies before this leaves them to expire after `claimTtlSeconds`.
   * @returns how many were dropped
   */
  async drop(req: ClaimRequest, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(
      await this.dropScript(
        ids.map((id) => this.keys.claim(id)),
        [this.claimValue(req)],
      ),
    );
  }

  private claimValue(req: ClaimRequest): string {
    return `${req.token}${req.batchId ?? ''}`;
  }

  private scriptKeys(req: ClaimRequest): string[] {
    const batchId = req.batchId ?? '';
    const keys = [this.keys.batch(batchId), this.keys.batchJobs(batchId), this.keys.batchRetries(batchId)];
    for (const id of req.ids) keys.push(this.keys.result(id), this.keys.bullJob(id), this.keys.claim(id));
    keys.push(this.keys.batchIndex);
    return keys;
  }

  private scriptArgs(req: ClaimRequest): (string | number)[] {
    if (req.token.length !== TOKEN_LENGTH) throw new Error(`claim token must be ${TOKEN_LENGTH} characters`);
    const owner = req.batchId ?? '';
    return [
      req.claimTtlSeconds,
      req.batchTtlSeconds,
      req.batchId ? '1' : '0',
      req.token,
      owner,
      req.callback?.url ?? '',
      req.callback?.on ?? '',
      ...req.ids,
    ];
  }
}
