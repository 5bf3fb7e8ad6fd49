import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import type { LANES } from '../redis/names.js';
import { OfflineState, parseLane } from './state.js';

/** A batch's offline lane as `status` and `GET /v1/batches/:id` show it. */
export interface OfflineView {
  lane: 'offline' | 'auto';
  /** Jobs not back by then run online (ISO 8601). */
  deadline: string;
  /** The calls have been planned into invocation jobs. */
  planned: boolean;
  /** Every invocation job was read back (or handed online). */
  done: boolean;
  invocationJobs: {
    part: number;
    modelId: string;
    records: number;
    /** Bedrock's status; `NotCreated` when Bedrock refused the job. */
    status?: string;
    message?: string;
    jobArn?: string;
    /** Results written from its output. */
    offline: number;
    /** Calls sent online from it. */
    online: number;
  }[];
}

/** The offline lane of a batch, or undefined when it has none. */
export async function offlineView(
  redis: RedisClient,
  keys: Keys,
  batchId: string,
): Promise<OfflineView | undefined> {
  const lane = await new OfflineState(redis, keys, batchId, 1).load();
  if (!lane || lane.lane === 'online') return undefined;
  return {
    lane: lane.lane,
    deadline: new Date(lane.deadlineMs).toISOString(),
    planned: lane.planned,
    done: lane.doneAt !== undefined,
    invocationJobs: lane.parts.map((p) => ({
      part: p.part,
      modelId: p.modelId,
      records: p.records,
      ...(p.status ? { status: p.status } : {}),
      ...(p.message ? { message: p.message } : {}),
      ...(p.jobArn ? { jobArn: p.jobArn } : {}),
      offline: p.offline,
      online: p.online,
    })),
  };
}

/**
 * The lane each batch was enqueued in, in order, in one round trip: only the `lane` field of
 * each lane record, so it stays cheap for a page that asks every second. `online` for a batch
 * with no lane record (enqueued online, or the record expired).
 */
export async function batchLanes(
  redis: RedisClient,
  keys: Keys,
  batchIds: readonly string[],
): Promise<(typeof LANES)[number][]> {
  if (batchIds.length === 0) return [];
  const pipe = redis.pipeline();
  for (const id of batchIds) pipe.hget(keys.offline(id), 'lane');
  const replies = (await pipe.exec()) ?? [];
  return batchIds.map((_, i) => {
    const [err, value] = replies[i] ?? [];
    if (err) throw err;
    return parseLane(typeof value === 'string' ? value : undefined) ?? 'online';
  });
}
