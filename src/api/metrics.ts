import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { registerFleetGauges } from '../metrics/fleet-gauges.js';
import { registerFleetWindowGauges } from '../metrics/fleet-window-gauges.js';
import { readEvictionState } from '../redis/checks.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { QUEUE_STATES } from '../redis/names.js';
import type { ModelFleetState } from '../resilience/fleet-view.js';

const STATES = QUEUE_STATES;

/**
 * Prometheus metrics of the API process, read from Redis at scrape time so every API
 * replica reports the same fleet-wide numbers.
 */
export function createMetrics(deps: {
  queue: Queue;
  redis: RedisClient;
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
  new Gauge({
    name: 'bedrock_jobs_redis_noeviction',
    help: 'Redis maxmemory-policy: 1 when noeviction, 0 when Redis may evict keys (queued jobs can vanish), NaN when it cannot be read',
    registers: [registry],
    async collect() {
      const { safe } = await readEvictionState(deps.redis);
      this.set(safe === undefined ? Number.NaN : safe ? 1 : 0);
    },
  });
  registerFleetGauges(registry, deps.fleet);
  registerFleetWindowGauges(registry, deps.redis, deps.keys);
  return { contentType: registry.contentType, render: () => registry.metrics() };
}
