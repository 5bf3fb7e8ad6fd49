import type { Command } from 'commander';
import { ModelCatalog } from '../models/catalog.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { type ModelFleetState, readFleetState } from '../resilience/fleet-view.js';
import type { CliContext } from './context.js';
import { describeStats, type FleetStatsByModel, readShortStats } from './model-stats.js';
import { describeModel } from './status.js';

/**
 * The fleet's rates, breakers and last minutes of calls, or undefined when Redis does not
 * answer within a second.
 */
async function fleetState(
  ctx: CliContext,
  catalog: ModelCatalog,
): Promise<{ fleet: ModelFleetState[]; stats: FleetStatsByModel } | undefined> {
  const config = ctx.config();
  const redis = connectRedis(config.redisUrl, config.redis, { probeTimeoutMs: 1_000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return {
      fleet: await readFleetState(redis, config, catalog),
      stats: await readShortStats(redis, keysFor(config.prefix)),
    };
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('models')
    .description(
      'list the model catalog (family, context, max output, prices, default quotas) and the fleet rate and breaker of each chain model',
    )
    .action(async () => {
      const catalog = ModelCatalog.of(ctx.config());
      const models = catalog.list();
      const now = await fleetState(ctx, catalog);
      if (ctx.json()) return ctx.emit(now ? { models, fleet: now.fleet, stats: now.stats } : { models });
      for (const m of models) {
        ctx.out(
          `${m.id.padEnd(44)} ${m.family.padEnd(9)} ctx ${String(m.contextWindow).padStart(7)}  out ${String(m.maxOutputTokens).padStart(6)}  $${m.priceInPer1k}/$${m.priceOutPer1k} per 1K  ${m.rpm} rpm ${m.tpm} tpm${m.profileOnly ? '  (profile only)' : ''}`,
        );
      }
      if (!now) return ctx.out('fleet state: Redis did not answer, so rates and breakers are not shown');
      ctx.out('fleet now:');
      for (const f of now.fleet) ctx.out(describeModel(f));
      const lines = describeStats(now.stats);
      if (lines.length > 0) ctx.out('fleet calls, last 1 and 5 minutes:');
      for (const line of lines) ctx.out(line);
    });
}
