import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { FleetStatsWriter } from '../metrics/fleet-stats-writer.js';
import { type MetricsServer, startMetricsServer } from '../metrics/metrics-server.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { ModelCatalog } from '../models/catalog.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import type { AttemptRecord } from '../resilience/attempt.js';
import type { BreakerRegistry } from '../resilience/breaker.js';
import type { CallEvent, ResilienceEvents } from '../resilience/events.js';
import { readFleetState } from '../resilience/fleet-view.js';
import type { JobRunEmitter, JobRunEvents } from './job-runs.js';

export interface WorkerTelemetryOptions {
  config: Config;
  keys: Keys;
  /** The worker's own connection; never closed here. */
  redis: RedisClient;
  catalog: ModelCatalog;
  /** The worker's breakers; their bus carries every event of the pipeline. */
  breakers: BreakerRegistry;
  jobRuns: JobRunEmitter;
  logger: Logger;
  /** The fleet's clock when the caller injected one; else the fleet windows follow Redis TIME. */
  fleetClock?: Clock;
}

/** What a worker counts and where it shows it. */
export interface WorkerTelemetry {
  metrics: WorkerMetrics;
  /** Where `GET /metrics` is served, when `worker.metricsPort` is set. */
  metricsUrl?: string;
  /** Stops serving, writes the last fleet counts and detaches from the buses. Idempotent. */
  close(): Promise<void>;
}

/**
 * The worker's shell for counting: listens to the pipeline's events and the job runs, and
 * feeds this worker's Prometheus metrics and (with `stats.enabled`) the fleet's windows in
 * Redis; serves the metrics on `worker.metricsPort` when set.
 */
export async function startTelemetry(o: WorkerTelemetryOptions): Promise<WorkerTelemetry> {
  const { config, redis, catalog, logger } = o;
  const metrics = new WorkerMetrics({
    catalog,
    breakers: () => o.breakers.states(),
    fleet: () => readFleetState(redis, config, catalog),
  });
  const stats = config.stats.enabled
    ? new FleetStatsWriter({
        redis,
        keys: o.keys,
        flushMs: config.stats.flushMs,
        retentionSeconds: config.stats.retentionSeconds,
        ...(o.fleetClock ? { clock: o.fleetClock } : {}),
        onError: (err) =>
          logger.warn({ err }, 'could not write fleet stats; counts are dropped until Redis answers'),
      })
    : undefined;
  await stats?.start();
  let server: MetricsServer | undefined;
  const { metricsPort, metricsHost } = config.worker;
  if (metricsPort !== undefined) {
    try {
      server = await startMetricsServer({
        host: metricsHost,
        port: metricsPort,
        contentType: metrics.contentType,
        render: () => metrics.render(),
        onError: (err) => logger.warn({ err }, 'metrics scrape failed'),
      });
    } catch (err) {
      await stats?.close();
      throw err;
    }
    logger.info({ url: server.url }, 'serving worker metrics');
  }

  const events = o.breakers.events;
  const onCall = (e: CallEvent) => {
    metrics.call(e);
    stats?.call(e.modelId, e.outcome, e.latencyMs);
  };
  const onAttempt = (a: AttemptRecord) => {
    if (a.outcome !== 'circuit_open' && a.outcome !== 'rate_limited') return;
    metrics.refused(a.modelId, a.outcome);
    stats?.refused(a.modelId, a.outcome);
  };
  const onFallback = (e: ResilienceEvents['fallback'][0]) => {
    metrics.fallback(e.from, e.to);
    stats?.fallback(e.from, e.to);
  };
  const onRetry = (e: ResilienceEvents['retry'][0]) => metrics.retry(e.modelId, e.kind);
  const onRateLimited = (e: ResilienceEvents['rateLimited'][0]) => metrics.rateLimited(e.modelId, e.waitMs);
  const onOpen = (e: ResilienceEvents['open'][0]) => metrics.breakerOpened(e.modelId);
  const onStart = (r: JobRunEvents['start'][0]) => metrics.jobStarted(r);
  const onEnd = (r: JobRunEvents['end'][0]) => {
    metrics.jobEnded(r);
    // Parts of a split document hand their summary to the document: only documents are results.
    if (r.task !== 'part' && (r.status === 'completed' || r.status === 'failed'))
      stats?.jobFinished(r.status);
  };
  events.on('call', onCall);
  events.on('attempt', onAttempt);
  events.on('fallback', onFallback);
  events.on('retry', onRetry);
  events.on('rateLimited', onRateLimited);
  events.on('open', onOpen);
  o.jobRuns.on('start', onStart);
  o.jobRuns.on('end', onEnd);

  let closing: Promise<void> | undefined;
  return {
    metrics,
    ...(server ? { metricsUrl: server.url } : {}),
    close() {
      closing ??= (async () => {
        events.off('call', onCall);
        events.off('attempt', onAttempt);
        events.off('fallback', onFallback);
        events.off('retry', onRetry);
        events.off('rateLimited', onRateLimited);
        events.off('open', onOpen);
        o.jobRuns.off('start', onStart);
        o.jobRuns.off('end', onEnd);
        await server?.close();
        await stats?.close();
      })();
      return closing;
    },
  };
}
