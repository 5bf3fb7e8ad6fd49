import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';

/**
 * What the claim script decided for one id: add it (`new`; `repair` when an earlier enqueue of the
 * same batch claimed it but never added it), or not, because it has a result
 * (`completed`/`failed`), BullMQ holds it (`bull`), it came earlier in this same call (`again`),
 * or an enqueue of another batch is adding it right now (`claimed`).
 */
export type ClaimCode = 'new' | 'repair' | 'again' | 'completed' | 'failed' | 'bull' | 'claimed';

export interface ClaimOutcome {
  codes: ClaimCode[];
  /** How many ids were new to the batch and were added to its `total`. */
  counted: number;
}

/** Claim tokens are uuids; the owner (batch id) follows the token in the claim's value. */
const TOKEN_LENGTH = 36;

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
 * KEYS: batch hash, batch id set, then per job: result, BullMQ job, claim.
 * ARGV: claim ttl s, batch ttl s, has batch ('1'/'0'), token, owner, then the job ids.
 */
const CLAIM_LUA = `
local counted = 0
local codes = {}
local hasBatch = ARGV[3] == '1'
local value = ARGV[4] .. ARGV[5]
for i = 6, #ARGV do
  local k = 3 + (i - 6) * 3
  local id = ARGV[i]
  local result = redis.call('GET', KEYS[k])
  if result then
    local ok, rec = pcall(cjson.decode, result)
    codes[#codes + 1] = (ok and type(rec) == 'table' and rec.status == 'failed') and 'failed' or 'completed'
  elseif redis.call('EXISTS', KEYS[k + 1]) == 1 then
    codes[#codes + 1] = 'bull'
  else
    local claim = redis.call('GET', KEYS[k + 2])
    if claim == value then
      codes[#codes + 1] = 'again'
    elseif claim and string.sub(claim, ${TOKEN_LENGTH + 1}) ~= ARGV[5] then
      codes[#codes + 1] = 'claimed'
    else
      redis.call('SET', KEYS[k + 2], value, 'EX', ARGV[1])
      codes[#codes + 1] = claim and 'repair' or 'new'
      if hasBatch and redis.call('SADD', KEYS[2], id) == 1 then counted = counted + 1 end
    end
  end
end
if hasBatch then
  if counted > 0 then redis.call('HINCRBY', KEYS[1], 'total', counted) end
  redis.call('HSETNX', KEYS[1], 'total', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
end
return { counted, codes }
`;

/**
 * Undoes claims whose jobs BullMQ does not hold after a failed add (a job BullMQ did take keeps
 * its claim and its count). KEYS/ARGV as the claim script; returns how many were undone.
 */
const RELEASE_LUA = `
local undone = 0
local value = ARGV[4] .. ARGV[5]
for i = 6, #ARGV do
  local k = 3 + (i - 6) * 3
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

export interface ClaimRequest {
  ids: readonly string[];
  batchId?: string;
  token: string;
  claimTtlSeconds: number;
  batchTtlSeconds: number;
}

/** The claim and release scripts bound to one connection and key set. */
export class Claims {
  private readonly claimScript: ScriptRunner;
  private readonly releaseScript: ScriptRunner;

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.claimScript = defineScript(redis, 'bjClaimJobs', CLAIM_LUA);
    this.releaseScript = defineScript(redis, 'bjReleaseJobs', RELEASE_LUA);
  }

  /** Claims the ids that are new and counts them in the batch; one code per id, in order. */
  async claim(req: ClaimRequest): Promise<ClaimOutcome> {
    const reply = await this.claimScript(this.scriptKeys(req), this.scriptArgs(req));
    if (!Array.isArray(reply) || !Array.isArray(reply[1])) {
      throw new Error(`unexpected reply from the claim script: ${JSON.stringify(reply)}`);
    }
    return { counted: Number(reply[0]), codes: reply[1].map(String) as ClaimCode[] };
  }

  /** Releases claims of `ids` that BullMQ did not take (after an add failed). */
  async release(req: ClaimRequest): Promise<number> {
    return Number(await this.releaseScript(this.scriptKeys(req), this.scriptArgs(req)));
  }

  private scriptKeys(req: ClaimRequest): string[] {
    const batchId = req.batchId ?? '';
    const keys = [this.keys.batch(batchId), this.keys.batchJobs(batchId)];
    for (const id of req.ids) keys.push(this.keys.result(id), this.keys.bullJob(id), this.keys.claim(id));
    return keys;
  }

  private scriptArgs(req: ClaimRequest): (string | number)[] {
    if (req.token.length !== TOKEN_LENGTH) throw new Error(`claim token must be ${TOKEN_LENGTH} characters`);
    const owner = req.batchId ?? '';
    return [req.claimTtlSeconds, req.batchTtlSeconds, req.batchId ? '1' : '0', req.token, owner, ...req.ids];
  }
}
