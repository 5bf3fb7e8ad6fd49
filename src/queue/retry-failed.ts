import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';
import { SUPERSEDE_LUA } from '../results/supersede.js';
import { JobIdSchema } from './ids.js';
import { type QueuedJob, QueuedJobSchema, type StoredJob, storedJob } from './jobs.js';
import { JobValidationError, toJobIssues } from './validation.js';

/** Ids decided per script call. */
const PAGE = 500;
/** Claim tokens are uuids (as in `./claim.ts`). */
const TOKEN_LENGTH = 36;
/** Ends the value of a claim a retry holds, so another retry can tell it from an enqueue's. */
const RETRY_MARK = '\nretry';
/** ARGV index (Lua, 1-based) of the first job id of the decide script. */
const FIRST_ID = 4;

/** Which jobs of a batch to retry; all of its failed ones when `ids` is left out. */
export const RetryFailedOptionsSchema = z.strictObject({
  ids: z
    .array(JobIdSchema)
    .min(1, { error: 'must name at least one job; leave it out to retry every failed job' })
    .max(100_000)
    .optional()
    .describe('retry only these jobs of the batch (each must be one of its failed jobs to be retried)'),
});
export type RetryFailedOptions = z.input<typeof RetryFailedOptionsSchema>;

/** What a retry on purpose did with a batch's jobs. */
export interface RetryFailedResult {
  batchId: string;
  /** Jobs whose failed result was superseded and that are queued again under the same id. */
  retried: number;
  /** Jobs that have a completed result: left alone. */
  completed: number;
  /** Jobs still queued or running (no result yet): left alone. */
  pending: number;
  /** Jobs another retry is re-enqueueing right now, or whose job could not be replaced yet (a part of it still runs): retry again later. */
  busy: string[];
  /** Failed jobs the queue no longer keeps (after `keepFailedSeconds`): their payload is gone, so they cannot be retried; enqueue them under a new id. */
  expired: string[];
  /** Jobs counted in the batch with neither a result nor a queued job: enqueue the batch's input again to add them. */
  missing: string[];
  /** `ids` that are not jobs of this batch. */
  unknown: string[];
}

type ScriptCode =
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
 * the job is queued (`resumed`: its failed result is deleted).
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

/** What a retry uses: the producer's connection, keys, queue and job options. */
export interface RetryDeps {
  redis: RedisClient;
  keys: Keys;
  queue: Queue<StoredJob>;
  claimTtlSeconds: number;
  batchTtlSeconds: number;
  /** BullMQ options of a job, as the producer adds it. */
  jobOptions: (job: QueuedJob) => JobsOptions;
  logger: Logger;
}

/**
 * Re-enqueues failed jobs of a batch under the same ids (`docs/failure-modes.md`): their failed
 * results are superseded and the batch reopens, and each retried job carries a new generation
 * so a late result of the attempt that failed can never be counted. Safe to run twice at once:
 * an id is retried by one call only. Safe to stop anywhere (the process killed): a failed result
 * goes only once its new job is queued, so a job is never without both, and the next retry
 * takes up what this one left (the steps: above {@link DECIDE_LUA}).
 */
export class FailedRetries {
  private readonly decideScript: ScriptRunner;
  private readonly commitScript: ScriptRunner;
  private readonly settleScript: ScriptRunner;

  constructor(private readonly deps: RetryDeps) {
    this.decideScript = defineScript(deps.redis, 'bjRetryDecide', DECIDE_LUA);
    this.commitScript = defineScript(deps.redis, 'bjRetryCommit', COMMIT_LUA);
    this.settleScript = defineScript(deps.redis, 'bjSettleRetry', SETTLE_LUA);
  }

  /**
   * Retries the failed jobs of `batchId` (those in `ids` only, when given).
   * @throws JobValidationError naming `ids[i]` for an id that breaks the id rule.
   */
  async retry(batchId: string, options: RetryFailedOptions = {}): Promise<RetryFailedResult> {
    const parsed = RetryFailedOptionsSchema.safeParse(options, { reportInput: true });
    if (!parsed.success) throw new JobValidationError(toJobIssues('', parsed.error).map(trimRoot));
    const out: RetryFailedResult = {
      batchId,
      retried: 0,
      completed: 0,
      pending: 0,
      busy: [],
      expired: [],
      missing: [],
      unknown: [],
    };
    const token = randomUUID();
    // An id SSCAN returns twice, or given twice, is decided once.
    const seen = new Set<string>();
    for await (const page of this.pages(batchId, parsed.data.ids)) {
      const fresh = page.filter((id) => !seen.has(id));
      for (const id of fresh) seen.add(id);
      if (fresh.length > 0) await this.retryPage(batchId, fresh, token, out);
    }
    this.deps.logger.info(
      {
        batchId,
        retried: out.retried,
        busy: out.busy.length,
        expired: out.expired.length,
        missing: out.missing.length,
      },
      'failed jobs retried',
    );
    return out;
  }

  /** The ids to decide, a page at a time: the given ones, or every id of the batch. */
  private async *pages(batchId: string, ids: readonly string[] | undefined): AsyncGenerator<string[]> {
    if (ids) {
      for (let i = 0; i < ids.length; i += PAGE) yield ids.slice(i, i + PAGE);
      return;
    }
    let cursor = '0';
    do {
      const [next, page] = await this.deps.redis.sscan(
        this.deps.keys.batchJobs(batchId),
        cursor,
        'COUNT',
        PAGE,
      );
      cursor = next;
      if (page.length > 0) yield page;
    } while (cursor !== '0');
  }

  private async retryPage(batchId: string, ids: string[], token: string, out: RetryFailedResult) {
    const { keys, queue, redis } = this.deps;
    const claimValue = `${token}${batchId}${RETRY_MARK}`;
    const decideKeys = [keys.batchJobs(batchId), keys.batchRetries(batchId), keys.bullFailed];
    for (const id of ids)
      decideKeys.push(keys.result(id), keys.bullJob(id), keys.claim(id), keys.retrying(id));
    const reply = await this.decideScript(decideKeys, [this.deps.claimTtlSeconds, token, batchId, ...ids]);
    if (!Array.isArray(reply))
      throw new Error(`unexpected reply from the retry script: ${JSON.stringify(reply)}`);
    const codes = reply.map(String) as ScriptCode[];
    const claimed: string[] = [];
    const toReplace: string[] = [];
    const toRestore: string[] = [];
    ids.forEach((id, i) => {
      const code = codes[i];
      if (code === 'retry' || code === 'restore') {
        claimed.push(id);
        (code === 'retry' ? toReplace : toRestore).push(id);
      } else if (code === 'resumed') out.retried++;
      else if (code === 'completed' || code === 'pending') out[code]++;
      else if (code) out[code].push(id);
    });

    // The payload comes from the failed job itself; set aside before that job is removed.
    const payloads = new Map<string, { job: QueuedJob; aside: string }>();
    for (const id of toReplace) {
      const data = QueuedJobSchema.safeParse((await queue.getJob(id))?.data);
      if (data.success) payloads.set(id, { job: data.data, aside: JSON.stringify(storedJob(data.data)) });
      else out.expired.push(id);
    }
    for (const id of toRestore) {
      const data = QueuedJobSchema.safeParse(parseJson(await redis.get(keys.retrying(id))));
      if (data.success) payloads.set(id, { job: data.data, aside: '' });
      else out.expired.push(id);
    }
    const gens = await this.commit(batchId, claimValue, payloads);

    const adds: { name: string; data: StoredJob; opts: JobsOptions }[] = [];
    for (const [id, { job, aside }] of payloads) {
      const retry = gens.get(id) ?? 0;
      // 0: another retry took the id over after this one's claim ran out.
      if (retry === 0) out.busy.push(id);
      // 0: a part of a split document is still running (locked); a later retry picks it up.
      else if (aside !== '' && (await queue.remove(id, { removeChildren: true })) === 0) out.busy.push(id);
      else {
        const next: QueuedJob = { ...job, retry };
        adds.push({ name: next.task, data: storedJob(next), opts: this.deps.jobOptions(next) });
      }
    }
    if (adds.length > 0) await queue.addBulk(adds);
    out.retried += adds.length;

    const queuedWith = new Map<string, number>(claimed.map((id) => [id, 0]));
    for (const { data } of adds) queuedWith.set(data.id, data.retry ?? 0);
    const settleKeys: string[] = [];
    for (const id of queuedWith.keys()) settleKeys.push(keys.result(id), keys.claim(id), keys.retrying(id));
    if (settleKeys.length > 0) await this.settleScript(settleKeys, [claimValue, ...queuedWith.values()]);
  }

  /** Runs the commit script over the ids with a payload; returns each one's new generation (0: not held). */
  private async commit(
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
}

/** JSON text as a value; undefined when absent or not JSON, which the job schema then refuses. */
function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Issues of the options object, named by field (`ids[3]: must not contain ":" …`). */
function trimRoot(issue: { path: string; message: string }) {
  return { ...issue, path: issue.path.replace(/^\./, '') || 'options' };
}
