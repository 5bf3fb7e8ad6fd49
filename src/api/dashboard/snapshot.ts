import { type Clock, systemClock } from '../../clock.js';
import type { Config } from '../../config.js';
import { readFleetSeries, readModelStats, type SeriesPoint } from '../../metrics/fleet-stats-reader.js';
import type { ModelCatalog } from '../../models/catalog.js';
import { batchLanes } from '../../offline/view.js';
import { recentBatches } from '../../queue/batch-index.js';
import type { RedisClient } from '../../redis/connect.js';
import type { Keys } from '../../redis/keys.js';
import type { LANES } from '../../redis/names.js';
import type { FleetBreakerView } from '../../resilience/fleet-breaker.js';
import { readFleetState } from '../../resilience/fleet-view.js';
import type { EffectiveRate } from '../../resilience/ratelimit.js';
import type { LaneTotals } from '../../results/batch-state.js';
import type { ResultStore } from '../../results/store.js';
import { BatchTallier } from '../../results/tally.js';

/** Seconds of history the live chart shows. */
export const SERIES_SECONDS = 120;
/** Batches a snapshot lists. */
export const SNAPSHOT_BATCHES = 10;
/** A batch's rate is measured over about this much of its recent progress. */
const RATE_WINDOW_MS = 10_000;

/** One model of a chain as the dashboard shows it. */
export interface ModelRow {
  modelId: string;
  breaker: FleetBreakerView;
  rate?: EffectiveRate;
  /** What the fleet did with it over the last minute. */
  lastMinute: {
    calls: number;
    ok: number;
    throttles: number;
    errors: number;
    p50: number | null;
    p95: number | null;
  };
}

/** One recent batch as the dashboard shows it. */
export interface BatchRow {
  batchId: string;
  createdAt: number;
  total: number;
  completed: number;
  failed: number;
  /** Jobs finished per second lately; null before anything finished. */
  ratePerSecond: number | null;
  /** Seconds until done at that rate; null when unknown, 0 when done. */
  etaSeconds: number | null;
  perModel: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** The lane it was enqueued in (`docs/offline-lane.md`); `online` for a plain batch. */
  lane: (typeof LANES)[number];
  /**
   * Results and cost per lane, as `GET /v1/batches/:id` gives them; `offline.onlineCostUsd`
   * less `offline.costUsd` is what the offline lane saved.
   */
  lanes: LaneTotals;
}

/** What `GET /ui/stream` sends every second. */
export interface DashboardSnapshot {
  at: number;
  models: ModelRow[];
  series: SeriesPoint[];
  batches: BatchRow[];
}

export interface SnapshotSources {
  redis: RedisClient;
  keys: Keys;
  store: ResultStore;
  config: Config;
  catalog: ModelCatalog;
  clock?: Clock;
}

interface BatchMemory {
  tallier: BatchTallier;
  /** (time, finished jobs) of recent snapshots, oldest first. */
  samples: { at: number; done: number }[];
}

/**
 * Builds dashboard snapshots from the fleet readers. Keeps, per listed batch, a tallier (so a
 * batch's results are read once however long it is watched) and its recent progress (for the
 * rate); batches that leave the list are forgotten.
 */
export class SnapshotBuilder {
  private readonly batches = new Map<string, BatchMemory>();

  constructor(private readonly s: SnapshotSources) {}

  async build(): Promise<DashboardSnapshot> {
    const { redis, keys, store, config, catalog } = this.s;
    const now = (this.s.clock ?? systemClock).now();
    const [fleet, [minute], series, recent] = await Promise.all([
      readFleetState(redis, config, catalog),
      readModelStats(redis, keys, { windowsSeconds: [60] }),
      readFleetSeries(redis, keys, SERIES_SECONDS),
      recentBatches(redis, keys, store, SNAPSHOT_BATCHES),
    ]);
    const models: ModelRow[] = fleet.map((f) => {
      const s = minute?.models[f.modelId];
      const errors = s ? Object.values(s.errors).reduce((a, b) => a + (b ?? 0), 0) : 0;
      return {
        modelId: f.modelId,
        breaker: f.breaker,
        ...(f.rate ? { rate: f.rate } : {}),
        lastMinute: {
          calls: s?.calls ?? 0,
          ok: s?.ok ?? 0,
          throttles: s?.throttles ?? 0,
          errors,
          p50: s?.latencyMs.p50 ?? null,
          p95: s?.latencyMs.p95 ?? null,
        },
      };
    });
    const ids = recent.map((b) => b.batchId);
    const listed = new Set(ids);
    for (const id of this.batches.keys()) if (!listed.has(id)) this.batches.delete(id);
    const lanes = await batchLanes(redis, keys, ids);
    const batches: BatchRow[] = [];
    for (const [i, b] of recent.entries()) {
      let memory = this.batches.get(b.batchId);
      if (!memory) {
        memory = { tallier: new BatchTallier(redis, store, keys, b.batchId), samples: [] };
        this.batches.set(b.batchId, memory);
      }
      const tally = await memory.tallier.refresh();
      const done = b.completed + b.failed;
      memory.samples.push({ at: now, done });
      while (memory.samples.length > 2 && now - memory.samples[1]!.at >= RATE_WINDOW_MS)
        memory.samples.shift();
      const ratePerSecond = rateOf(memory.samples, done, now - b.createdAt);
      const left = Math.max(0, b.total - done);
      batches.push({
        ...b,
        ratePerSecond,
        etaSeconds: left === 0 ? 0 : ratePerSecond ? Math.ceil(left / ratePerSecond) : null,
        perModel: { ...tally.perModel },
        inputTokens: tally.inputTokens,
        outputTokens: tally.outputTokens,
        costUsd: tally.costUsd,
        lane: lanes[i] ?? 'online',
      });
    }
    return { at: now, models, series, batches };
  }
}

/**
 * Jobs per second over the samples kept; before two samples apart, since the batch began.
 * Null when nothing has finished.
 */
function rateOf(
  samples: readonly { at: number; done: number }[],
  done: number,
  ageMs: number,
): number | null {
  if (done === 0) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first && last && last.at > first.at && last.done > first.done) {
    return ((last.done - first.done) * 1000) / (last.at - first.at);
  }
  if (first && last && last.at > first.at) return 0;
  return ageMs > 0 ? (done * 1000) / ageMs : null;
}
