import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';

/** Ids read from a batch's id set per round trip. */
export const BATCH_PAGE = 500;

/**
 * The job ids of a batch, a page at a time, from its id set (`keys.batchJobs`) with SSCAN: a
 * batch of 100,000 jobs is never read whole. An id may come twice if the set is rehashed during
 * the walk (SSCAN's guarantee); empty pages are skipped.
 */
export async function* batchIdPages(
  redis: RedisClient,
  keys: Pick<Keys, 'batchJobs'>,
  batchId: string,
): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, ids] = await redis.sscan(keys.batchJobs(batchId), cursor, 'COUNT', BATCH_PAGE);
    cursor = next;
    if (ids.length > 0) yield ids;
  } while (cursor !== '0');
}
