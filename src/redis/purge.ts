import { dataNodes, type RedisClient } from './connect.js';

/**
 * Deletes every key under `prefix` (the prefix taken literally, glob characters escaped), a
 * page at a time so Redis is never blocked; returns how many. For tests and benchmarks that
 * give each run its own prefix. On a Cluster every master is scanned, since SCAN sees one node.
 */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let deleted = 0;
  for (const node of dataNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      cursor = next;
      // One UNLINK per key: on a Cluster node, keys of different slots cannot share a command.
      const replies = keys.length > 0 ? await node.pipeline(keys.map((k) => ['unlink', k])).exec() : [];
      for (const [err, n] of replies ?? []) {
        if (err) throw err;
        deleted += Number(n);
      }
    } while (cursor !== '0');
  }
  return deleted;
}
