import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Keys } from '../redis/keys.js';
import type { ModelFleetState } from '../resilience/fleet-view.js';

const STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;

/**
 * Prometheus metrics of the API process, read from Redis at scrape time so every API
 * replica reports the same fleet-wide numbers.
 */
export function createMetrics(deps: {
  queue: Queue;
  redis: Redis;
  keys: Keys;
  fleet: () => Promise<ModelFleetState[]>;
}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bedrock_jobs_api_' });
  new Gauge({
    name: 'bedrock_jobs_queue_jobs',
    help: 'Jobs in the BullMQ queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await deps.queue.getJobCounts(...STATES);
      for (const state of STATES) this.set({ state }, counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'bedrock_jobs_results_stream_length',
    help: 'Entries on the results stream (trimmed approximately to its max length)',
    registers: [registry],
    async collect() {
      this.set(await deps.redis.xlen(deps.keys.results));
    },
  });
  // One read of the fleet state per scrape, shared by the gauges below.
  let scrape: Promise<ModelFleetState[]> | undefined;
  const fleet = () => {
    scrape ??= deps.fleet().finally(() => {
      setImmediate(() => {
        scrape = undefined;
      });
    });
    return scrape;
  };
  new Gauge({
    name: 'bedrock_jobs_model_rate_rpm',
    help: 'Requests per minute the fleet paces a model at now (adaptive: lowered on throttles, grown back on success)',
    labelNames: ['model'],
    registers: [registry],
    async collect() {
      for (const f of await fleet()) if (f.rate) this.set({ model: f.modelId }, f.rate.rpm);
    },
  });
  new Gauge({
    name: 'bedrock_jobs_model_quota_rpm',
    help: 'Requests per minute of the quota the rate is measured against (configured, or the catalog default)',
    labelNames: ['model'],
    registers: [registry],
    async collect() {
      for (const f of await fleet()) if (f.rate) this.set({ model: f.modelId }, f.rate.quota.rpm);
    },
  });
  new Gauge({
    name: 'bedrock_jobs_model_breaker_open',
    help: '1 while the fleet breaker of a model is open, else 0',
    labelNames: ['model'],
    registers: [registry],
    async collect() {
      for (const f of await fleet()) this.set({ model: f.modelId }, f.breaker.state === 'open' ? 1 : 0);
    },
  });
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
