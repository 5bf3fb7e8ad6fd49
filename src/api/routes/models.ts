import type { FastifyInstance } from 'fastify';
import { readFleetState } from '../../resilience/fleet-view.js';
import { configuredLimits } from '../../resilience/ratelimit.js';
import type { ApiContext } from './context.js';

/** `GET /v1/models`: the catalog with each model's quota, chains, and fleet rate and breaker now. */
export function modelRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { config, catalog } = ctx;
  const limits = configuredLimits(config, catalog);
  app.get('/v1/models', async () => {
    const fleet = await readFleetState(ctx.redis, config, catalog);
    return catalog.list().map((m) => ({
      id: m.id,
      family: m.family,
      name: m.name,
      contextWindow: m.contextWindow,
      maxOutputTokens: m.maxOutputTokens,
      priceInPer1k: m.priceInPer1k,
      priceOutPer1k: m.priceOutPer1k,
      quota: limits(m.id),
      inChains: Object.entries(config.chains)
        .filter(([, ids]) => ids.some((x) => catalog.resolve(x)?.baseId === m.id))
        .map(([name]) => name),
      // Per id as sent (a profile and its base model are separate pools): rate and breaker now.
      fleet: fleet.filter((f) => catalog.resolve(f.modelId)?.baseId === m.id),
    }));
  });
}
