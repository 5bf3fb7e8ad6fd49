import { z } from 'zod';
import { readEvictionState, SAFE_POLICY } from '../redis/checks.js';
import type { RedisClient } from '../redis/connect.js';

/** The body of `GET /healthz`; `ok: false` answers 503. */
export const HealthSchema = z.object({
  ok: z.boolean().describe("false: Redis is down, or it may evict the queue's keys"),
  redis: z.enum(['up', 'down']),
  maxmemoryPolicy: z
    .string()
    .optional()
    .describe("Redis's maxmemory-policy (the first unsafe one of a Cluster), or unknown"),
  problem: z.string().optional().describe('what is wrong, when something is'),
});
export type Health = z.infer<typeof HealthSchema>;

/**
 * Redis's health for the service: it answers, and it will not evict keys. A policy that cannot
 * be read (managed Redis) does not fail the check; an evicting one does, even when it was
 * changed after the API started.
 */
export async function checkHealth(redis: RedisClient): Promise<Health> {
  const up = await redis.ping().then(
    (p) => p === 'PONG',
    () => false,
  );
  if (!up) return { ok: false, redis: 'down', problem: 'Redis does not answer' };
  const eviction = await readEvictionState(redis).catch(() => undefined);
  if (!eviction) return { ok: false, redis: 'down', problem: 'Redis does not answer' };
  const maxmemoryPolicy = eviction.policy ?? 'unknown';
  if (eviction.safe === false)
    return {
      ok: false,
      redis: 'up',
      maxmemoryPolicy,
      problem: `maxmemory-policy is ${maxmemoryPolicy}, not ${SAFE_POLICY}: Redis may delete queued jobs`,
    };
  return { ok: true, redis: 'up', maxmemoryPolicy };
}
