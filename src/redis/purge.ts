import type { Redis } from 'ioredis';

/**
 * Deletes every key under `prefix` (the prefix taken literally, glob characters escaped), a
 * page at a time so Redis is never blocked; returns how many. For tests and benchmarks that
 * give each run its own prefix.
 */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
