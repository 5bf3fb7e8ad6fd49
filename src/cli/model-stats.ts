import { readModelStats, type StatsWindow } from '../metrics/fleet-stats-reader.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';

/** The spans the CLI shows, by name. */
const SPANS = { '1m': 60, '5m': 300 } as const;
type SpanName = keyof typeof SPANS;

/** One model over one span, in short: what `models --json` and `status --json` print. */
export interface ShortModelStats {
  calls: number;
  ok: number;
  throttles: number;
  /** Failed calls by kind. */
  errors: Record<string, number>;
  /** Attempts refused without a call (open breaker, fleet rate). */
  refused: number;
  fallbacksOut: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Per model id as called, its short stats over the last 1 and 5 minutes. */
export type FleetStatsByModel = Record<string, Partial<Record<SpanName, ShortModelStats>>>;

function shorten(windows: readonly StatsWindow[]): FleetStatsByModel {
  const out: FleetStatsByModel = {};
  const names = Object.keys(SPANS) as SpanName[];
  for (const [i, window] of windows.entries()) {
    const name = names[i]!;
    for (const [model, s] of Object.entries(window.models)) {
      out[model] ??= {};
      out[model][name] = {
        calls: s.calls,
        ok: s.ok,
        throttles: s.throttles,
        errors: { ...s.errors },
        refused: s.refused.circuitOpen + s.refused.rateLimited,
        fallbacksOut: s.fallbacksOut.total,
        p50Ms: s.latencyMs.p50,
        p95Ms: s.latencyMs.p95,
      };
    }
  }
  return out;
}

/** The fleet's last 1 and 5 minutes per model, from the stat windows the workers write. */
export async function readShortStats(redis: RedisClient, keys: Keys): Promise<FleetStatsByModel> {
  return shorten(await readModelStats(redis, keys, { windowsSeconds: Object.values(SPANS) }));
}

/** One line per model that did anything in the last 5 minutes. */
export function describeStats(stats: FleetStatsByModel): string[] {
  return Object.entries(stats).map(([model, spans]) => {
    const parts = (Object.keys(SPANS) as SpanName[]).flatMap((name) => {
      const s = spans[name];
      if (!s) return [];
      const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
      const latency = s.p50Ms === null ? '' : `, p50 ${s.p50Ms} ms p95 ${s.p95Ms} ms`;
      return [
        `${name}: ${s.calls} calls, ${errors} failed (${s.throttles} throttled), ${s.refused} refused, ${s.fallbacksOut} fallbacks out${latency}`,
      ];
    });
    return `  ${model}: ${parts.join(' | ')}`;
  });
}
