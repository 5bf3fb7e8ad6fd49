import type { Command } from 'commander';
import { ModelCatalog } from '../models/catalog.js';
import { catalogMarkdown, catalogRows } from '../models/catalog-doc.js';
import { chainAccess, type PreflightRecord, readPreflight } from '../queue/preflight-record.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { type ModelFleetState, readFleetState } from '../resilience/fleet-view.js';
import type { CliContext } from './context.js';
import { describeStats, type FleetStatsByModel, readShortStats } from './model-stats.js';
import { checkAccess, describeCheck, describeProbes, probeChains } from './models-check.js';
import { describeModel } from './status.js';

/** What the fleet keeps in Redis about its models. */
interface FleetNow {
  fleet: ModelFleetState[];
  /** The fleet's calls per model over the last 1 and 5 minutes. */
  stats: FleetStatsByModel;
  /** The last preflight a worker wrote; null when none is current. */
  preflight: PreflightRecord | null;
}

/**
 * The fleet's rates, breakers, last minutes of calls and last preflight, or undefined when Redis
 * does not answer within a second.
 */
async function fleetState(ctx: CliContext, catalog: ModelCatalog): Promise<FleetNow | undefined> {
  const config = ctx.config();
  const redis = connectRedis(config.redisUrl, config.redis, { probeTimeoutMs: 1_000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return {
      fleet: await readFleetState(redis, config, catalog),
      stats: await readShortStats(redis, keysFor(config.prefix)),
      preflight: await readPreflight(redis, keysFor(config.prefix)),
    };
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** The last preflight for people: each chain's entries that are not usable, or that all are. */
function describePreflight(record: PreflightRecord | null): string[] {
  if (!record) return ['preflight: none current (no worker has checked model access lately)'];
  if (record.status === 'unreachable')
    return [`preflight at ${record.checkedAt}: control plane not reachable (${record.reason})`];
  const lines = [`preflight at ${record.checkedAt} (${record.region}):`];
  for (const [chain, entries] of Object.entries(chainAccess(record))) {
    const bad = entries.filter((e) => e.status !== 'usable');
    lines.push(`  chain ${chain}:${bad.length === 0 ? ' every model usable' : ''}`);
    for (const e of bad) lines.push(`    ${e.id}: ${e.status}${e.reason ? ` (${e.reason})` : ''}`);
  }
  return lines;
}

interface ModelsOptions {
  check?: boolean;
  probe?: boolean;
  markdown?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('models')
    .description(
      'list the model catalog (family, context, max output, prices, default quotas, Converse, native fields, lifecycle), the fleet rate, breaker and recent calls of each chain model, and the last preflight',
    )
    .option(
      '--check',
      'ask the Bedrock control plane which models the account may use, and where profiles route',
    )
    .option(
      '--probe',
      'make one minimal call (1 output token) per model of each chain and report its outcome',
    )
    .option('--markdown', 'print the model tables of the README (Markdown), nothing else')
    .action(async (o: ModelsOptions) => {
      const config = ctx.config();
      const catalog = ModelCatalog.of(config);
      if (o.markdown) return ctx.out(catalogMarkdown(catalog));
      const rows = catalogRows(catalog);
      if (o.check || o.probe) {
        const check = o.check ? await checkAccess(config, catalog) : undefined;
        const probes = o.probe ? await probeChains(config, catalog) : undefined;
        if (ctx.json()) {
          ctx.emit({
            models: rows.map((r) => (check ? { ...r, access: check.models[r.id] } : r)),
            ...(check
              ? {
                  check: {
                    region: check.region,
                    status: check.status,
                    reason: check.reason,
                    chains: check.chains,
                  },
                }
              : {}),
            ...(probes ? { probes } : {}),
          });
        } else {
          if (check) for (const line of describeCheck(check, config.endpoint)) ctx.out(line);
          if (probes) for (const line of describeProbes(probes)) ctx.out(line);
        }
        // 1: no answer at all; 3: some chain model cannot be used (as `enqueue --wait` when jobs failed).
        const unusable =
          Object.values(check?.chains ?? {}).some((c) => c.some((a) => a.status === 'unusable')) ||
          (probes ?? []).some((p) => p.outcome !== 'ok');
        if (check?.status === 'unreachable') process.exitCode = 1;
        else if (unusable) process.exitCode = 3;
        return;
      }
      const now = await fleetState(ctx, catalog);
      if (ctx.json()) return ctx.emit(now ? { models: rows, ...now } : { models: rows });
      for (const m of rows) {
        ctx.out(
          `${m.id.padEnd(44)} ${m.family.padEnd(9)} ctx ${String(m.contextWindow).padStart(7)}  out ${String(m.maxOutputTokens).padStart(6)}  $${m.priceInPer1k}/$${m.priceOutPer1k} per 1K  ${m.rpm} rpm ${m.tpm} tpm  ${m.lifecycle}${m.profileOnly ? '  (profile only)' : ''}`,
        );
      }
      if (!now)
        return ctx.out('fleet state: Redis did not answer, so rates, breakers and preflight are not shown');
      ctx.out('fleet now:');
      for (const f of now.fleet) ctx.out(describeModel(f));
      const lines = describeStats(now.stats);
      if (lines.length > 0) ctx.out('fleet calls, last 1 and 5 minutes:');
      for (const line of lines) ctx.out(line);
      for (const line of describePreflight(now.preflight)) ctx.out(line);
    });
}
