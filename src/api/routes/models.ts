import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ModelAccessSchema } from '../../bedrock/model-access.js';
import { type ModelWindowStats, mergeModelStats, readModelStats } from '../../metrics/fleet-stats-reader.js';
import { readPreflight } from '../../queue/preflight-record.js';
import { readFleetState } from '../../resilience/fleet-view.js';
import { configuredLimits } from '../../resilience/ratelimit.js';
import type { ApiContext } from './context.js';

/** The spans `GET /v1/models` shows, by the name they are shown under. */
const SPANS = { '1m': 60, '5m': 300 } as const;

const counts = z.record(z.string(), z.number().int());
const StatsDoc = z
  .looseObject({
    calls: z.number().int().describe('calls that reached the model'),
    ok: z.number().int(),
    throttles: z.number().int(),
    errors: counts.describe('failed calls by error kind'),
    refused: z.looseObject({ circuitOpen: z.number().int(), rateLimited: z.number().int() }),
    latencyMs: z.looseObject({
      count: z.number().int(),
      p50: z.number().nullable(),
      p95: z.number().nullable(),
    }),
    fallbacksOut: z.looseObject({ total: z.number().int(), to: counts }),
  })
  .describe('what the whole fleet did with the model over the span');

const ModelsDoc = {
  summary:
    'The model catalog: limits, prices, quotas, chains, fleet rate and breaker now, and fleet stats of the last 1 and 5 minutes',
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
        stats: z.looseObject({ '1m': StatsDoc, '5m': StatsDoc }),
        access: z
          .array(ModelAccessSchema)
          .nullable()
          .describe(
            "the last preflight's findings on the chain entries naming this model; null: none current",
          ),
      }),
    ),
  },
};

/** A model's fleet stats over one span, as the API shows them: the latency buckets left out. */
export type ModelStatsView = Omit<ModelWindowStats, 'latencyMs'> & {
  latencyMs: Omit<ModelWindowStats['latencyMs'], 'buckets'>;
};

function view(s: ModelWindowStats): ModelStatsView {
  const { buckets: _, ...latencyMs } = s.latencyMs;
  return { ...s, latencyMs };
}

/**
 * `GET /v1/models`: the catalog with each model's quota, chains, its fleet rate and breaker now,
 * what the fleet did with it over the last 1 and 5 minutes (`stats`, summed over the model's
 * base id and its profiles), and what the last preflight found of its chain entries (`access`).
 */
export function modelRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { config, catalog } = ctx;
  const limits = configuredLimits(config, catalog);
  app.get('/v1/models', { config: { scope: 'read' }, schema: ModelsDoc }, async () => {
    const [fleet, windows, preflight] = await Promise.all([
      readFleetState(ctx.redis, config, catalog),
      readModelStats(ctx.redis, ctx.keys, { windowsSeconds: Object.values(SPANS) }),
      readPreflight(ctx.redis, ctx.keys),
    ]);
    const baseOf = (id: string) => catalog.resolve(id)?.baseId;
    const stats = (baseId: string) =>
      Object.fromEntries(
        Object.keys(SPANS).map((name, i) => {
          const models = windows[i]?.models ?? {};
          const parts = Object.entries(models).filter(([id]) => baseOf(id) === baseId);
          return [name, view(mergeModelStats(parts.map(([, s]) => s)))];
        }),
      ) as Record<keyof typeof SPANS, ModelStatsView>;
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
        .filter(([, ids]) => ids.some((x) => baseOf(x) === m.id))
        .map(([name]) => name),
      // Per id as sent (a profile and its base model are separate pools): rate and breaker now.
      fleet: fleet.filter((f) => baseOf(f.modelId) === m.id),
      stats: stats(m.id),
      access: preflight ? preflight.models.filter((a) => a.baseId === m.id) : null,
    }));
  });
}
