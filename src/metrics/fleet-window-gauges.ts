import { Gauge, type Registry } from 'prom-client';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { readFleetSeries, readModelStats, type SeriesPoint, type StatsWindow } from './fleet-stats-reader.js';

/** The spans exported, by their `window` label. */
const SPANS = { '1m': 60, '5m': 300 } as const;
type SpanName = keyof typeof SPANS;
const NAMES = Object.keys(SPANS) as SpanName[];

interface Scrape {
  windows: StatsWindow[];
  series: SeriesPoint[];
}

/**
 * The fleet's last 1 and 5 minutes from the stat windows in Redis, as gauges with a `window`
 * label, so a Prometheus that scrapes only the API still sees the whole fleet. One read of
 * Redis per scrape feeds them all; each gauge is cleared first, so a model that went quiet
 * leaves the output.
 */
export function registerFleetWindowGauges(registry: Registry, redis: RedisClient, keys: Keys): void {
  let scrape: Promise<Scrape> | undefined;
  const read = () => {
    scrape ??= Promise.all([
      readModelStats(redis, keys, { windowsSeconds: Object.values(SPANS) }),
      readFleetSeries(redis, keys, Math.max(...Object.values(SPANS))),
    ])
      .then(([windows, series]) => ({ windows, series }))
      .finally(() => {
        setImmediate(() => {
          scrape = undefined;
        });
      });
    return scrape;
  };
  /** Each span with its label. */
  const spans = async () => {
    const { windows } = await read();
    return NAMES.map((window, i) => ({ window, models: windows[i]?.models ?? {} }));
  };
  const registers = [registry];
  new Gauge({
    name: 'bedrock_jobs_fleet_window_calls',
    help: 'Calls the whole fleet made to a model in the last window (1m, 5m), by outcome: ok or an error kind',
    labelNames: ['model', 'outcome', 'window'],
    registers,
    async collect() {
      this.reset();
      for (const { window, models } of await spans()) {
        for (const [model, s] of Object.entries(models)) {
          if (s.ok > 0) this.set({ model, outcome: 'ok', window }, s.ok);
          for (const [outcome, n] of Object.entries(s.errors)) this.set({ model, outcome, window }, n);
        }
      }
    },
  });
  new Gauge({
    name: 'bedrock_jobs_fleet_window_refusals',
    help: 'Attempts on a model refused without a call in the last window, fleet-wide: circuit_open or rate_limited',
    labelNames: ['model', 'reason', 'window'],
    registers,
    async collect() {
      this.reset();
      for (const { window, models } of await spans()) {
        for (const [model, s] of Object.entries(models)) {
          if (s.refused.circuitOpen > 0)
            this.set({ model, reason: 'circuit_open', window }, s.refused.circuitOpen);
          if (s.refused.rateLimited > 0)
            this.set({ model, reason: 'rate_limited', window }, s.refused.rateLimited);
        }
      }
    },
  });
  new Gauge({
    name: 'bedrock_jobs_fleet_window_fallbacks',
    help: 'Times jobs left one model for the next in the last window, fleet-wide',
    labelNames: ['from', 'to', 'window'],
    registers,
    async collect() {
      this.reset();
      for (const { window, models } of await spans()) {
        for (const [from, s] of Object.entries(models))
          for (const [to, n] of Object.entries(s.fallbacksOut.to)) this.set({ from, to, window }, n);
      }
    },
  });
  new Gauge({
    name: 'bedrock_jobs_fleet_window_latency_seconds',
    help: 'Latency of answered calls to a model in the last window, fleet-wide: its 50th and 95th percentile',
    labelNames: ['model', 'percentile', 'window'],
    registers,
    async collect() {
      this.reset();
      for (const { window, models } of await spans()) {
        for (const [model, s] of Object.entries(models)) {
          const { p50, p95 } = s.latencyMs;
          if (p50 !== null) this.set({ model, percentile: '50', window }, p50 / 1000);
          if (p95 !== null) this.set({ model, percentile: '95', window }, p95 / 1000);
        }
      }
    },
  });
  new Gauge({
    name: 'bedrock_jobs_fleet_window_jobs',
    help: 'Jobs the whole fleet finished in the last window (1m, 5m), by result status',
    labelNames: ['status', 'window'],
    registers,
    async collect() {
      const { series } = await read();
      for (const window of NAMES) {
        const recent = series.slice(-SPANS[window]);
        this.set(
          { status: 'completed', window },
          recent.reduce((a, p) => a + p.completed, 0),
        );
        this.set(
          { status: 'failed', window },
          recent.reduce((a, p) => a + p.failed, 0),
        );
      }
    },
  });
}
