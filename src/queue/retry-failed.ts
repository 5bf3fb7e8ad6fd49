import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';
import { JobIdSchema } from './ids.js';
import { type QueuedJob, QueuedJobSchema, type StoredJob, storedJob } from './jobs.js';
import { JobValidationError, toJobIssues } from './validation.js';

/** Ids decided per script call. */
const PAGE = 500;
/** Claim tokens are uuids (as in `./claim.ts`). */
const TOKEN_LENGTH = 36;
/** Ends the value of a claim a retry holds, so another retry can tell it from an enqueue's. */
const RETRY_MARK = '\nretry';
/** ARGV index (Lua, 1-based) of the first job id. */
const FIRST_ID = 5;

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

type ScriptCode = 'retry' | 'requeue' | 'completed' | 'pending' | 'busy' | 'expired' | 'missing' | 'unknown';

/**
 * Decides, atomically, which ids of a batch are retried, and supersedes their failed results.
 *
 * - `retry`: a failed result and a job BullMQ still keeps. The id's generation goes up (the
 *   new job carries it, and the save script refuses any result of an older one, such as a late
 *   write of the attempt that failed), the result is deleted and no longer counted as failed,
 *   and the id is claimed for this retry. The id stays in the batch's list of results, so its
 *   next result takes the same place.
 * - `requeue`: no result, and its job is in BullMQ's failed set although it was retried
 *   before: a retry that stopped before replacing the job. Same as `retry`, less the result.
 * - left alone: `completed`, `pending` (queued, running, or failed by the queue and about to
 *   get its result from a worker's sweep), `busy` (another retry holds its claim), `expired`
 *   (failed, but BullMQ no longer keeps the payload), `missing` (neither result nor job),
 *   `unknown` (not in the batch).
 *
 * A batch that was done and had a job retried is reopened: its `doneAt` and callback state are
 * cleared and its `round` goes up, so it ends again (with a `done` entry, and a callback
 * delivery of its own id) once the retried jobs have their results.
 * KEYS: batch hash, batch id set, batch retries hash, BullMQ failed set, then per id: result,
 * BullMQ job, claim, split stage. ARGV: claim ttl s, token, batch id, batch ttl s, then the ids.
 * Returns { codes, generations }, one of each per id.
 */
const RETRY_LUA = `
local value = ARGV[2] .. ARGV[3] .. '${RETRY_MARK.replace('\n', '\\n')}'
local codes, gens = {}, {}
local accepted = 0
for i = ${FIRST_ID}, #ARGV do
  local k = 5 + (i - ${FIRST_ID}) * 4
  local id = ARGV[i]
  local code
  local lane = 'online'
  if redis.call('SISMEMBER', KEYS[2], id) == 0 then
    code = 'unknown'
  else
    local result = redis.call('GET', KEYS[k])
    if result then
      local ok, rec = pcall(cjson.decode, result)
      if ok and type(rec) == 'table' and type(rec.lane) == 'string' then lane = rec.lane end
      if not (ok and type(rec) == 'table' and rec.status == 'failed') then code = 'completed'
      elseif redis.call('EXISTS', KEYS[k + 1]) == 0 then code = 'expired'
      else code = 'retry' end
    else
      local claim = redis.call('GET', KEYS[k + 2])
      if claim and string.sub(claim, 1, ${TOKEN_LENGTH}) ~= ARGV[2] and string.sub(claim, -${RETRY_MARK.length}) == '${RETRY_MARK.replace('\n', '\\n')}' then
        code = 'busy'
      elseif redis.call('EXISTS', KEYS[k + 1]) == 0 then
        code = 'missing'
      elseif redis.call('HGET', KEYS[3], id) and redis.call('ZSCORE', KEYS[4], id) then
        code = 'requeue'
      else
        code = 'pending'
      end
    end
  end
  local gen = 0
  if code == 'retry' or code == 'requeue' then
    gen = redis.call('HINCRBY', KEYS[3], id, 1)
    redis.call('SET', KEYS[k + 2], value, 'EX', ARGV[1])
    redis.call('DEL', KEYS[k + 3])
    if code == 'retry' then
      redis.call('DEL', KEYS[k])
      redis.call('HINCRBY', KEYS[1], 'failed', -1)
      -- The lane's count goes with it; what the failed run cost was spent and stays counted.
      redis.call('HINCRBY', KEYS[1], lane .. ':failed', -1)
    end
    accepted = accepted + 1
  end
  codes[#codes + 1] = code
  gens[#gens + 1] = gen
end
if accepted > 0 then
  redis.call('EXPIRE', KEYS[3], ARGV[4])
  if redis.call('HEXISTS', KEYS[1], 'doneAt') == 1 then
    redis.call('HDEL', KEYS[1], 'doneAt', 'doneEventId', 'callbackStatus', 'callbackAttempts', 'callbackLastError')
    redis.call('HINCRBY', KEYS[1], 'round', 1)
    -- The delivery of the end before no longer speaks for the batch (see the record script).
    if redis.call('HEXISTS', KEYS[1], 'callbackUrl') == 1 then redis.call('HSET', KEYS[1], 'callbackDeliveryId', '') end
  end
end
return { codes, gens }
`;

/** Drops this retry's claims once BullMQ holds the jobs. KEYS: claims. ARGV: the claim value. */
const RELEASE_LUA = `
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
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
 * an id is retried by one call only. Safe to repeat after a crash: a job the retry had not
 * replaced yet is picked up again.
 */
export class FailedRetries {
  private readonly retryScript: ScriptRunner;
  private readonly releaseScript: ScriptRunner;

  constructor(private readonly deps: RetryDeps) {
    this.retryScript = defineScript(deps.redis, 'bjRetryFailed', RETRY_LUA);
    this.releaseScript = defineScript(deps.redis, 'bjReleaseRetry', RELEASE_LUA);
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
    const { keys, queue } = this.deps;
    const scriptKeys = [
      keys.batch(batchId),
      keys.batchJobs(batchId),
      keys.batchRetries(batchId),
      keys.bullFailed,
    ];
    for (const id of ids)
      scriptKeys.push(keys.result(id), keys.bullJob(id), keys.claim(id), keys.splitStage(id));
    const reply = await this.retryScript(scriptKeys, [
      this.deps.claimTtlSeconds,
      token,
      batchId,
      this.deps.batchTtlSeconds,
      ...ids,
    ]);
    if (!Array.isArray(reply) || !Array.isArray(reply[0]) || !Array.isArray(reply[1])) {
      throw new Error(`unexpected reply from the retry script: ${JSON.stringify(reply)}`);
    }
    const codes = reply[0].map(String) as ScriptCode[];
    const gens = reply[1].map(Number);
    const chosen: { id: string; retry: number }[] = [];
    ids.forEach((id, i) => {
      const code = codes[i];
      if (code === 'retry' || code === 'requeue') chosen.push({ id, retry: gens[i] ?? 1 });
      else if (code === 'completed' || code === 'pending') out[code]++;
      else if (code) out[code].push(id);
    });
    const adds: { name: string; data: StoredJob; opts: JobsOptions }[] = [];
    for (const { id, retry } of chosen) {
      // The payload comes from the failed job itself, which is then replaced by a new one.
      const failed = await queue.getJob(id);
      const data = QueuedJobSchema.safeParse(failed?.data);
      if (!failed || !data.success) {
        out.missing.push(id);
        continue;
      }
      // 0: a part of a split document is still running (locked); a later retry picks it up.
      if ((await queue.remove(id, { removeChildren: true })) === 0) {
        out.busy.push(id);
        continue;
      }
      const job: QueuedJob = { ...data.data, retry };
      adds.push({ name: job.task, data: storedJob(job), opts: this.deps.jobOptions(job) });
    }
    if (adds.length > 0) await queue.addBulk(adds);
    out.retried += adds.length;
    await this.releaseScript(
      chosen.map(({ id }) => keys.claim(id)),
      [`${token}${batchId}${RETRY_MARK}`],
    );
  }
}

/** Issues of the options object, named by field (`ids[3]: must not contain ":" …`). */
function trimRoot(issue: { path: string; message: string }) {
  return { ...issue, path: issue.path.replace(/^\./, '') || 'options' };
}
