import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import type { ResultStore } from './store.js';

/** Per-model counts of a batch's results, read incrementally from its finished-ids list. */
export interface BatchTally {
  perModel: Record<string, number>;
  /** Jobs served by a model other than their chain's first. */
  fallbacks: number;
  /** Throttled attempts over the batch. */
  throttled: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/**
 * Follows a batch's results as they are written, counting serving models, fallbacks,
 * throttles, tokens and cost. Each result is read once; memory stays at one page.
 */
export class BatchTallier {
  private offset = 0;
  readonly tally: BatchTally = {
    perModel: {},
    fallbacks: 0,
    throttled: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
  };

  constructor(
    private readonly redis: RedisClient,
    private readonly store: ResultStore,
    private readonly keys: Keys,
    private readonly batchId: string,
  ) {}

  /** Reads results finished since the last call. */
  async refresh(pageSize = 500): Promise<BatchTally> {
    for (;;) {
      const ids = await this.redis.lrange(
        this.keys.batchResults(this.batchId),
        this.offset,
        this.offset + pageSize - 1,
      );
      if (ids.length === 0) return this.tally;
      this.offset += ids.length;
      for (const r of await this.store.getMany(ids)) {
        if (!r) continue;
        const t = this.tally;
        if (r.modelId) t.perModel[r.modelId] = (t.perModel[r.modelId] ?? 0) + 1;
        if (r.modelId && r.attempts.length > 0 && r.attempts[0]?.modelId !== r.modelId) t.fallbacks++;
        t.throttled += r.attempts.filter((a) => a.outcome === 'throttled').length;
        t.inputTokens += r.usage.inputTokens;
        t.outputTokens += r.usage.outputTokens;
        t.costUsd += r.costUsd;
      }
      if (ids.length < pageSize) return this.tally;
    }
  }
}
