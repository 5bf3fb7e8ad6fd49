import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ModelCatalog } from '../models/catalog.js';
import type { Usage } from '../models/request.js';
import { type QueuedJob, QueuedJobSchema } from '../queue/jobs.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import type { ResultStore } from '../results/store.js';
import type { OfflineAws } from './aws.js';

/** What one offline result is reported to (the worker's metrics). */
export interface OfflineObserver {
  offlineResult(e: { modelId: string; usage: Usage; costUsd: number; onlineCostUsd: number }): void;
}

/** What every step of a batch's offline lane works with. */
export interface LaneContext {
  config: Config;
  catalog: ModelCatalog;
  redis: RedisClient;
  keys: Keys;
  store: ResultStore;
  /** The jobs queue: offline-lane jobs wait in its delayed set. */
  jobs: Queue;
  aws: OfflineAws;
  logger: Logger;
  /** Unix ms now; the coordinator's clock. */
  now: () => number;
  observer?: OfflineObserver;
  /** Model ids the worker's preflight found unusable (`queue/preflight.ts`). */
  unusable?: ReadonlySet<string>;
}

/** Job ids read from BullMQ per round trip. */
export const PAGE = 500;

/**
 * The payloads BullMQ holds for `ids`, in one pipeline; ids whose job is gone (removed after
 * its offline result, or finished online) or whose payload does not parse are left out.
 */
export async function readJobs(
  redis: RedisClient,
  keys: Keys,
  ids: readonly string[],
): Promise<Map<string, QueuedJob>> {
  const pipe = redis.pipeline();
  for (const id of ids) pipe.hget(keys.bullJob(id), 'data');
  const replies = (await pipe.exec()) ?? [];
  const out = new Map<string, QueuedJob>();
  ids.forEach((id, i) => {
    const data = replies[i]?.[1];
    if (typeof data !== 'string') return;
    const parsed = QueuedJobSchema.safeParse(JSON.parse(data));
    if (parsed.success) out.set(id, parsed.data);
  });
  return out;
}
