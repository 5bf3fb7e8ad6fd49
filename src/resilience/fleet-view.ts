import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { ModelCatalog } from '../models/catalog.js';
import type { RedisClient } from '../redis/connect.js';
import { FleetBreakers, type FleetBreakerView } from './fleet-breaker.js';
import { configuredLimits, type EffectiveRate, RedisRateLimiter } from './ratelimit.js';

/** What the fleet knows of one model now: its adaptive rate and its shared breaker. */
export interface ModelFleetState {
  modelId: string;
  /** Absent for a model without limits. */
  rate?: EffectiveRate;
  breaker: FleetBreakerView;
}

/** The model ids of every configured chain, as sent to Bedrock, in first-seen order. */
export function chainModelIds(config: Config, catalog: ModelCatalog): string[] {
  const ids = Object.values(config.chains).flatMap((chain) =>
    chain.map((id) => catalog.resolve(id)?.requestId).filter((id): id is string => id !== undefined),
  );
  return [...new Set(ids)];
}

/**
 * Reads, without changing anything, the fleet state of `modelIds` (default: the models of
 * the configured chains) from Redis: what `status`, `models`, `GET /v1/models` and the metrics
 * show.
 */
export async function readFleetState(
  redis: RedisClient,
  config: Config,
  catalog: ModelCatalog,
  modelIds: readonly string[] = chainModelIds(config, catalog),
): Promise<ModelFleetState[]> {
  const limiter = new RedisRateLimiter({
    redis,
    prefix: config.prefix,
    limits: configuredLimits(config, catalog),
    adaptive: config.limiter,
  });
  const breakers = new FleetBreakers({
    redis,
    prefix: config.prefix,
    owner: 'reader',
    refreshMs: 0,
    probeTimeoutMs: 0,
    localClock: systemClock,
  });
  const rates = new Map((await limiter.rates(modelIds)).map((r) => [r.modelId, r]));
  const out: ModelFleetState[] = [];
  for (const modelId of modelIds) {
    const rate = rates.get(modelId);
    out.push({ modelId, ...(rate ? { rate } : {}), breaker: await breakers.peek(modelId) });
  }
  return out;
}
