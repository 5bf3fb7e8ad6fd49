import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { readFleetState } from '../../resilience/fleet-view.js';
import { configuredLimits } from '../../resilience/ratelimit.js';
import type { ApiContext } from './context.js';

const ModelsDoc = {
  summary: 'The model catalog: limits, prices, quotas, chains, and fleet rate and breaker now',
  response: {
    200: z.array(
      z.looseObject({
        id: z.string(),
        family: z.string(),
        name: z.string(),
        contextWindow: z.number().int(),
        maxOutputTokens: z.number().int(),
        priceInPer1k: z.number(),
        priceOutPer1k: z.number(),
        quota: z.looseObject({ rpm: z.number(), tpm: z.number() }).optional(),
        inChains: z.array(z.string()),
        fleet: z.array(z.looseObject({ modelId: z.string() })),
      }),
    ),
  },
};

/** `GET /v1/models`: the catalog with each model's quota, chains, and fleet rate and breaker now. */
export function modelRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { config, catalog } = ctx;
  const limits = configuredLimits(config, catalog);
  app.get('/v1/models', { config: { scope: 'read' }, schema: ModelsDoc }, async () => {
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
