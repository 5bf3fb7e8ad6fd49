import { z } from 'zod';
import { type AccessStatus, ModelAccessSchema } from '../bedrock/model-access.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';

/**
 * The fleet's last preflight, as a worker wrote it to `<prefix>:preflight` for `status`,
 * `models` and `GET /v1/models` to show: which chain models the account may use.
 */
export const PreflightRecordSchema = z.object({
  checkedAt: z.iso.datetime(),
  region: z.string(),
  /** `checked`: the control plane answered; `unreachable`: it did not, and workers run without preflight. */
  status: z.enum(['checked', 'unreachable']),
  reason: z.string().optional(),
  /** One entry per distinct chain entry, as written. */
  models: z.array(ModelAccessSchema),
  /** Each chain's entries, as written, in order. */
  chains: z.record(z.string(), z.array(z.string())),
});
export type PreflightRecord = z.infer<typeof PreflightRecordSchema>;

/** How long a record outlives the worker that wrote it: three of its refreshes, at least a minute. */
export function preflightTtlSeconds(refreshMs: number): number {
  return Math.max(60, Math.ceil((3 * refreshMs) / 1000));
}

export async function writePreflight(
  redis: RedisClient,
  keys: Keys,
  record: PreflightRecord,
  ttlSeconds: number,
): Promise<void> {
  await redis.set(keys.preflight, JSON.stringify(record), 'EX', ttlSeconds);
}

/** The last preflight a worker wrote, or null when none is current (or the value is not one). */
export async function readPreflight(redis: RedisClient, keys: Keys): Promise<PreflightRecord | null> {
  const raw = await redis.get(keys.preflight);
  if (raw === null) return null;
  try {
    const parsed = PreflightRecordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Each chain's entries with what the preflight found, for display. */
export function chainAccess(
  record: PreflightRecord,
): Record<string, { id: string; status: AccessStatus; reason?: string }[]> {
  const byId = new Map(record.models.map((m) => [m.id, m]));
  return Object.fromEntries(
    Object.entries(record.chains).map(([name, ids]) => [
      name,
      ids.map((id) => {
        const m = byId.get(id);
        return { id, status: m?.status ?? 'unknown', ...(m?.reason ? { reason: m.reason } : {}) };
      }),
    ]),
  );
}
