import { z } from 'zod';
import { ConfigSchema } from '../config.js';
import type { RedisClient } from '../redis/connect.js';
import { type Keys, keysFor } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';
import { FINISH_BATCH_LUA } from './batch-done.js';
import { type BatchState, countersOf, parseBatchState } from './batch-state.js';
import {
  type BatchCounters,
  failureKind,
  type ResultRecord,
  type ResultRecordInput,
  ResultRecordSchema,
} from './record.js';
import { SUPERSEDE_LUA } from './supersede.js';

const CONFIG_DEFAULTS = ConfigSchema.parse({});

const ResultStoreOptionsSchema = z
  .object({
    prefix: z.string().min(1).default(CONFIG_DEFAULTS.prefix).describe('key prefix, as in config'),
    ttlSeconds: z
      .number()
      .int()
      .positive()
      .default(CONFIG_DEFAULTS.resultTtlSeconds)
      .describe('how long results and batch records stay in Redis'),
    streamMaxLen: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe('approximate length the results stream is trimmed to'),
    onOutbox: z
      .custom<() => void>()
      .optional()
      .describe('called after a save or seal wrote a callback delivery to the outbox, to queue it at once'),
  })
  .strict();
export type ResultStoreOptions = z.input<typeof ResultStoreOptionsSchema>;

/** Ids read per LRANGE/MGET round trip when walking a batch. */
export const DEFAULT_PAGE_SIZE = 500;

/**
 * Writes a result once: a second save of the same id (a job retried after a worker crashed
 * between saving and acknowledging) changes nothing, so no job is ever counted twice. A result
 * of an older generation than the id's current one (a late write from the run a retry on
 * purpose superseded, `../queue/retry-failed.ts`) changes nothing either. A result of a retried
 * generation that finds the failed result of an older one still there (the retry queued the job
 * and had not deleted that result yet; the batch no longer counts it) replaces it
 * (`./supersede.ts`). In the same step: a
 * `job.failed` callback when the batch asks for one, and the batch's end when this was its last
 * result (`./batch-done.ts`). A retried id keeps its place in the batch's list of results.
 * KEYS: result, batch, batch results list, results stream, callback outbox, batch retries.
 * ARGV: json, ttl seconds, job id, batch id ('' for none), status, stream max length,
 * failure kind, finished at (unix ms), generation (0 for the first run), lane, cost,
 * online-equivalent cost (offline only).
 * Per lane the batch also counts `<lane>:<status>` and sums `<lane>:costUsd`, and for the
 * offline lane `offline:onlineCostUsd`: what the same calls would have cost on demand.
 * Returns 0 when a result was there already or the generation is stale, 1 when written, 2 when
 * a callback was queued too.
 */
const SAVE_LUA = `${FINISH_BATCH_LUA}${SUPERSEDE_LUA}
local gen = tonumber(ARGV[9])
if ARGV[4] ~= '' then
  if gen < tonumber(redis.call('HGET', KEYS[6], ARGV[3]) or '0') then return 0 end
  if gen > 0 then dropSuperseded(KEYS[1], gen) end
end
if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 0 end
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
  redis.call('HINCRBY', KEYS[2], ARGV[10] .. ':' .. ARGV[5], 1)
  redis.call('HINCRBYFLOAT', KEYS[2], ARGV[10] .. ':costUsd', ARGV[11])
  if ARGV[10] == 'offline' then redis.call('HINCRBYFLOAT', KEYS[2], 'offline:onlineCostUsd', ARGV[12]) end
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  if gen == 0 then redis.call('RPUSH', KEYS[3], ARGV[3]) end
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'id', ARGV[3], 'batchId', ARGV[4], 'status', ARGV[5])
if ARGV[4] == '' then return 1 end
local queued = false
if ARGV[5] == 'failed' then
  local cb = redis.call('HMGET', KEYS[2], 'callbackUrl', 'callbackOn', 'doneAt')
  if cb[1] and cb[2] == 'failed-and-done' and not cb[3] then
    queueCallback(KEYS[5], { event = 'job.failed', url = cb[1], batchId = ARGV[4], jobId = ARGV[3],
      kind = ARGV[7], at = tonumber(ARGV[8]), round = gen })
    queued = true
  end
end
if finishBatch(KEYS[2], KEYS[4], KEYS[5], ARGV[4], ARGV[6]) == 2 then queued = true end
return queued and 2 or 1
`;

/**
 * Seals a batch: no more jobs will come. Ends it when its last result came first.
 * KEYS: batch, results stream, callback outbox. ARGV: batch id, stream max length.
 * Returns -1 for an unknown batch, else what `finishBatch` returns.
 */
const SEAL_LUA = `${FINISH_BATCH_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'sealed', '1')
return finishBatch(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
`;

/**
 * Result records, batch progress and the results stream (`docs/architecture.md#the-result`).
 * Uses the caller's connection and never closes it.
 */
export class ResultStore {
  readonly keys: Keys;
  readonly ttlSeconds: number;
  private readonly streamMaxLen: number;
  private readonly saveScript: ScriptRunner;
  private readonly sealScript: ScriptRunner;
  private readonly onOutbox: (() => void) | undefined;

  constructor(
    readonly redis: RedisClient,
    options: ResultStoreOptions = {},
  ) {
    const opts = ResultStoreOptionsSchema.parse(options);
    this.keys = keysFor(opts.prefix);
    this.ttlSeconds = opts.ttlSeconds;
    this.streamMaxLen = opts.streamMaxLen;
    this.onOutbox = opts.onOutbox;
    this.saveScript = defineScript(redis, 'bjSaveResult', SAVE_LUA);
    this.sealScript = defineScript(redis, 'bjSealBatch', SEAL_LUA);
  }

  /**
   * Stores a result, counts it in its batch and appends it to the results stream, atomically.
   * @returns false (and writes nothing) when a result for this id already exists (other than a
   *   failed one of an older generation, which it supersedes), or when the record's `retry`
   *   generation is older than the id's (a retry on purpose superseded it).
   * @throws ZodError when the record does not match {@link ResultRecordSchema}.
   */
  async save(result: ResultRecordInput): Promise<boolean> {
    const record = ResultRecordSchema.parse(result);
    const batchId = record.batchId ?? '';
    const { keys } = this;
    const written = await this.saveScript(
      [
        keys.result(record.id),
        keys.batch(batchId),
        keys.batchResults(batchId),
        keys.results,
        keys.callbackOutbox,
        keys.batchRetries(batchId),
      ],
      [
        JSON.stringify(record),
        this.ttlSeconds,
        record.id,
        batchId,
        record.status,
        this.streamMaxLen,
        record.status === 'failed' ? failureKind(record) : '',
        Date.parse(record.finishedAt),
        record.retry ?? 0,
        record.lane ?? 'online',
        // Fixed notation: Redis reads floats, and this keeps tiny costs out of exponent form.
        record.costUsd.toFixed(12),
        (record.onlineCostUsd ?? record.costUsd).toFixed(12),
      ],
    );
    if (written === 2) this.onOutbox?.();
    return written !== 0;
  }

  /**
   * Seals a batch (no more jobs will come) and ends it if every job already has a result.
   * Sealing twice changes nothing.
   * @returns the batch after sealing, or undefined when it has no record.
   */
  async seal(batchId: string): Promise<BatchState | undefined> {
    const { keys } = this;
    const reply = await this.sealScript(
      [keys.batch(batchId), keys.results, keys.callbackOutbox],
      [batchId, this.streamMaxLen],
    );
    if (reply === -1) return undefined;
    if (reply === 2) this.onOutbox?.();
    return this.state(batchId);
  }

  /** A batch's counters, whether it is sealed and done, and its callback; undefined when it has no record. */
  async state(batchId: string): Promise<BatchState | undefined> {
    return parseBatchState(batchId, await this.redis.hgetall(this.keys.batch(batchId)));
  }

  /** The result of a job, or undefined when it has none (yet, or any more). */
  async get(id: string): Promise<ResultRecord | undefined> {
    return this.parse(await this.redis.get(this.keys.result(id)));
  }

  /** Results in the order of `ids`; undefined where a job has no result. */
  async getMany(ids: readonly string[]): Promise<(ResultRecord | undefined)[]> {
    const out: (ResultRecord | undefined)[] = [];
    for (let i = 0; i < ids.length; i += DEFAULT_PAGE_SIZE) {
      const slice = ids.slice(i, i + DEFAULT_PAGE_SIZE);
      if (slice.length === 0) break;
      const values = await this.redis.mget(slice.map((id) => this.keys.result(id)));
      for (const v of values) out.push(this.parse(v));
    }
    return out;
  }

  /** A batch's counters, or undefined when no job was ever enqueued in it (or it expired). */
  async batch(batchId: string): Promise<BatchCounters | undefined> {
    const state = await this.state(batchId);
    return state && countersOf(state);
  }

  /**
   * A batch's results in finishing order, `pageSize` at a time (one LRANGE and one MGET per
   * page), so a batch of any size is walked without holding it in memory. Results that expired
   * are skipped.
   */
  async *pages(batchId: string, pageSize = DEFAULT_PAGE_SIZE): AsyncGenerator<ResultRecord[]> {
    const listKey = this.keys.batchResults(batchId);
    for (let start = 0; ; start += pageSize) {
      const ids = await this.redis.lrange(listKey, start, start + pageSize - 1);
      if (ids.length === 0) return;
      const records = (await this.getMany(ids)).filter((r): r is ResultRecord => r !== undefined);
      if (records.length > 0) yield records;
      if (ids.length < pageSize) return;
    }
  }

  private parse(json: string | null): ResultRecord | undefined {
    if (json === null) return undefined;
    return ResultRecordSchema.parse(JSON.parse(json));
  }
}
