import { Gauge, type Registry } from 'prom-client';
import type { ModelFleetState } from '../resilience/fleet-view.js';

/**
 * The fleet's rate, quota and breaker per model, read from Redis at scrape time: the same
 * numbers from the API and from every worker that serves metrics (aggregate with `max by
 * (model)`). One read of the fleet state per scrape is shared by the three gauges.
 */
export function registerFleetGauges(registry: Registry, read: () => Promise<ModelFleetState[]>): void {
  let scrape: Promise<ModelFleetState[]> | undefined;
  const fleet = () => {
    scrape ??= read().finally(() => {
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
}
