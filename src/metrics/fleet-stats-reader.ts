import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { ModelErrorKind } from '../models/errors.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import {
  decodeSeriesField,
  decodeStatField,
  type StatField,
  WINDOW_SECONDS,
  windowStart,
} from './fleet-windows.js';
import { latencyQuantile } from './latency.js';

/** What the fleet did with one model over a span of time, summed over every worker. */
export interface ModelWindowStats {
  /** Calls that reached the model (answered or failed). */
  calls: number;
  /** Calls it answered. */
  ok: number;
  /** Calls Bedrock throttled (HTTP 429); also in `errors.throttled`. */
  throttles: number;
  /** Failed calls by error kind (`docs/architecture.md#failure-kinds`); kinds never seen are absent. */
  errors: Partial<Record<ModelErrorKind, number>>;
  /** Attempts refused without a call: the breaker was open, or the fleet's next slot too far away. */
  refused: { circuitOpen: number; rateLimited: number };
  /** Latency of answered calls: p50 and p95 in ms (null without calls) from `buckets`. */
  latencyMs: {
    count: number;
    p50: number | null;
    p95: number | null;
    /** Answered calls per latency bucket, keyed by its upper bound in ms (or `+Inf`); not cumulative. */
    buckets: Record<string, number>;
  };
  /** Times a job's chain left this model for another, by the model it moved on to. */
  fallbacksOut: { total: number; to: Record<string, number> };
}

/** One span of {@link readModelStats}: every model seen in it. */
export interface StatsWindow {
  /** The span asked for, in seconds. */
  seconds: number;
  /**
   * Start of the oldest 10 s window counted (ms): the span covers the window in progress and
   * the ones before it, `seconds` rounded up to whole windows, so between `seconds − 10` and
   * `seconds` of history.
   */
  fromMs: number;
  /** The fleet's time of the read (ms). */
  toMs: number;
  /** Per model id as called (a profile and its base model are separate). */
  models: Record<string, ModelWindowStats>;
}

const ModelStatsQuerySchema = z
  .object({
    windowsSeconds: z
      .array(z.number().int().positive().max(86_400))
      .min(1)
      .default([60, 300])
      .describe('spans to sum, in seconds; rounded up to whole 10 s windows'),
    clock: z.custom<Clock>().optional().describe("the fleet's clock (tests); Redis TIME when absent"),
  })
  .strict();
/** Options of {@link readModelStats}. */
export type ModelStatsQuery = z.input<typeof ModelStatsQuerySchema>;

const FleetSeriesQuerySchema = z
  .object({
    clock: z.custom<Clock>().optional().describe("the fleet's clock (tests); Redis TIME when absent"),
  })
  .strict();
/** Options of {@link readFleetSeries}. */
export type FleetSeriesQuery = z.input<typeof FleetSeriesQuerySchema>;

/** One second of the fleet's work. */
export interface SeriesPoint {
  /** Start of the second, ms since the epoch (fleet time). */
  t: number;
  /** Jobs that ended with a completed result. */
  completed: number;
  /** Jobs that ended with a failed result. */
  failed: number;
  /** Model calls that failed (any kind, throttles included). */
  callErrors: number;
}

/** A model's stats with nothing counted. */
export function emptyModelStats(): ModelWindowStats {
  return {
    calls: 0,
    ok: 0,
    throttles: 0,
    errors: {},
    refused: { circuitOpen: 0, rateLimited: 0 },
    latencyMs: { count: 0, p50: null, p95: null, buckets: {} },
    fallbacksOut: { total: 0, to: {} },
  };
}

/**
 * Sums stats, e.g. of a model's base id and its inference profiles, or of several spans; the
 * quantiles are read again from the summed buckets.
 */
export function mergeModelStats(parts: readonly ModelWindowStats[]): ModelWindowStats {
  const out = emptyModelStats();
  for (const p of parts) {
    out.calls += p.calls;
    out.ok += p.ok;
    out.throttles += p.throttles;
    for (const [kind, n] of Object.entries(p.errors) as [ModelErrorKind, number][])
      out.errors[kind] = (out.errors[kind] ?? 0) + n;
    out.refused.circuitOpen += p.refused.circuitOpen;
    out.refused.rateLimited += p.refused.rateLimited;
    addCounts(out.latencyMs.buckets, p.latencyMs.buckets);
    out.fallbacksOut.total += p.fallbacksOut.total;
    addCounts(out.fallbacksOut.to, p.fallbacksOut.to);
  }
  return withQuantiles(out);
}

/** Adds the counts of `b` into `a`, key by key. */
function addCounts(a: Record<string, number>, b: Readonly<Record<string, number>>): void {
  for (const [key, n] of Object.entries(b)) a[key] = (a[key] ?? 0) + n;
}

/** Counts one field of a stats hash into the models it concerns. */
function count(models: Record<string, ModelWindowStats>, field: StatField, n: number): void {
  const model = field.t === 'fallback' ? field.from : field.model;
  models[model] ??= emptyModelStats();
  const s = models[model];
  switch (field.t) {
    case 'call':
      s.calls += n;
      if (field.outcome === 'ok') s.ok += n;
      else s.errors[field.outcome] = (s.errors[field.outcome] ?? 0) + n;
      if (field.outcome === 'throttled') s.throttles += n;
      return;
    case 'refused':
      if (field.reason === 'circuit_open') s.refused.circuitOpen += n;
      else s.refused.rateLimited += n;
      return;
    case 'latency':
      s.latencyMs.buckets[field.bucket] = (s.latencyMs.buckets[field.bucket] ?? 0) + n;
      return;
    case 'fallback':
      s.fallbacksOut.total += n;
      s.fallbacksOut.to[field.to] = (s.fallbacksOut.to[field.to] ?? 0) + n;
      return;
  }
}

function withQuantiles(s: ModelWindowStats): ModelWindowStats {
  const { buckets } = s.latencyMs;
  s.latencyMs.count = Object.values(buckets).reduce((a, b) => a + b, 0);
  s.latencyMs.p50 = roundMs(latencyQuantile(buckets, 0.5));
  s.latencyMs.p95 = roundMs(latencyQuantile(buckets, 0.95));
  return s;
}

function roundMs(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 10) / 10;
}

/** The fleet's time in ms: the injected clock, else Redis `TIME` (what the writers bucket by). */
async function fleetNow(redis: RedisClient, clock: Clock | undefined): Promise<number> {
  if (clock) return clock.now();
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Every hash of `keys`, in one pipeline, as field → count. */
async function readHashes(redis: RedisClient, keys: readonly string[]): Promise<Record<string, number>[]> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hgetall(key);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([err, value]) => {
    if (err) throw err;
    const out: Record<string, number> = {};
    for (const [field, n] of Object.entries((value ?? {}) as Record<string, string>)) out[field] = Number(n);
    return out;
  });
}

/**
 * The fleet's stats per model over the last `windowsSeconds` (default 1 and 5 minutes), summed
 * from the 10 s windows every worker writes (`stats.enabled`), in one round trip for the
 * longest span. Spans longer than `stats.retentionSeconds` see only what is still kept.
 * @returns one {@link StatsWindow} per span asked for, in the order asked.
 * @throws ZodError when a span is not a positive whole number of seconds up to a day.
 */
export async function readModelStats(
  redis: RedisClient,
  keys: Keys,
  query: ModelStatsQuery = {},
): Promise<StatsWindow[]> {
  const { windowsSeconds, clock } = ModelStatsQuerySchema.parse(query);
  const now = await fleetNow(redis, clock);
  const current = windowStart(now);
  const spans = windowsSeconds.map((seconds) => ({ seconds, windows: Math.ceil(seconds / WINDOW_SECONDS) }));
  const starts = Array.from(
    { length: Math.max(...spans.map((s) => s.windows)) },
    (_, i) => current - i * WINDOW_SECONDS,
  );
  const hashes = await readHashes(
    redis,
    starts.map((s) => keys.statsWindow(s)),
  );
  return spans.map(({ seconds, windows }) => {
    const models: Record<string, ModelWindowStats> = {};
    for (const hash of hashes.slice(0, windows)) {
      for (const [raw, n] of Object.entries(hash)) {
        const field = decodeStatField(raw);
        if (field && Number.isFinite(n)) count(models, field, n);
      }
    }
    for (const s of Object.values(models)) withQuantiles(s);
    return { seconds, fromMs: starts[windows - 1]! * 1000, toMs: now, models };
  });
}

/**
 * Jobs completed and failed, and model calls failed, by the whole fleet in each of the last
 * `seconds` whole seconds (oldest first, the second in progress left out), for a live chart.
 * Workers write once per `stats.flushMs`, so the newest second or two may still grow.
 * @throws ZodError when `seconds` is not a whole number from 1 to 3600.
 */
export async function readFleetSeries(
  redis: RedisClient,
  keys: Keys,
  seconds: number,
  query: FleetSeriesQuery = {},
): Promise<SeriesPoint[]> {
  const span = z.number().int().min(1).max(3_600).parse(seconds);
  const { clock } = FleetSeriesQuerySchema.parse(query);
  const last = Math.floor((await fleetNow(redis, clock)) / 1000) - 1;
  const first = last - span + 1;
  const starts: number[] = [];
  for (let s = windowStart(first * 1000); s <= last; s += WINDOW_SECONDS) starts.push(s);
  const hashes = await readHashes(
    redis,
    starts.map((s) => keys.seriesWindow(s)),
  );
  const points: SeriesPoint[] = Array.from({ length: span }, (_, i) => ({
    t: (first + i) * 1000,
    completed: 0,
    failed: 0,
    callErrors: 0,
  }));
  for (const hash of hashes) {
    for (const [raw, n] of Object.entries(hash)) {
      const field = decodeSeriesField(raw);
      const point = field && points[field.second - first];
      if (field && point && Number.isFinite(n)) point[field.counter] += n;
    }
  }
  return points;
}
