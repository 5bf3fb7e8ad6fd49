import { z } from 'zod';
import { ConfigSchema } from '../config.js';
import type { RedisClient } from '../redis/connect.js';
import { type Keys, keysFor } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';
import {
  type BatchCounters,
  type ResultRecord,
  type ResultRecordInput,
  ResultRecordSchema,
} from './record.js';

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
  })
  .strict();
export type ResultStoreOptions = z.input<typeof ResultStoreOptionsSchema>;

/** Ids read per LRANGE/MGET round trip when walking a batch. */
export const DEFAULT_PAGE_SIZE = 500;

/**
 * Writes a result once: a second save of the same id (a job retried after a worker crashed
 * between saving and acknowledging) changes nothing, so no job is ever counted twice.
 * KEYS: result, batch, batch results list, results stream.
 * ARGV: json, ttl seconds, job id, batch id ('' for none), status, stream max length.
 */
const SAVE_LUA = `
if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 0 end
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call('RPUSH', KEYS[3], ARGV[3])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'id', ARGV[3], 'batchId', ARGV[4], 'status', ARGV[5])
return 1
`;

function toCount(value: string | null | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Result records, batch progress and the results stream (`docs/architecture.md#the-result`).
 * Uses the caller's connection and never closes it.
 */
export class ResultStore {
  readonly keys: Keys;
  readonly ttlSeconds: number;
  private readonly streamMaxLen: number;
  private readonly saveScript: ScriptRunner;

  constructor(
    readonly redis: RedisClient,
    options: ResultStoreOptions = {},
  ) {
    const opts = ResultStoreOptionsSchema.parse(options);
    this.keys = keysFor(opts.prefix);
    this.ttlSeconds = opts.ttlSeconds;
    this.streamMaxLen = opts.streamMaxLen;
    this.saveScript = defineScript(redis, 'bjSaveResult', SAVE_LUA);
  }

  /**
   * Stores a result, counts it in its batch and appends it to the results stream, atomically.
   * @returns false (and writes nothing) when a result for this id already exists.
   * @throws ZodError when the record does not match {@link ResultRecordSchema}.
   */
  async save(result: ResultRecordInput): Promise<boolean> {
    const record = ResultRecordSchema.parse(result);
    const batchId = record.batchId ?? '';
    const { keys } = this;
    const written = await this.saveScript(
      [keys.result(record.id), keys.batch(batchId), keys.batchResults(batchId), keys.results],
      [JSON.stringify(record), this.ttlSeconds, record.id, batchId, record.status, this.streamMaxLen],
    );
    return written === 1;
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
    const [total, completed, failed] = await this.redis.hmget(
      this.keys.batch(batchId),
      'total',
      'completed',
      'failed',
    );
    if (total == null && completed == null && failed == null) return undefined;
    return { batchId, total: toCount(total), completed: toCount(completed), failed: toCount(failed) };
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
