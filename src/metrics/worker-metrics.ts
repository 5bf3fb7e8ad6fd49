import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelCatalog } from '../models/catalog.js';
import type { ModelErrorKind } from '../models/errors.js';
import { costUsd } from '../models/info.js';
import type { Usage } from '../models/request.js';
import type { BreakerState, BreakerView } from '../resilience/breaker.js';
import type { CallEvent } from '../resilience/events.js';
import type { ModelFleetState } from '../resilience/fleet-view.js';
import { registerFleetGauges } from './fleet-gauges.js';
import type { RefusalReason } from './fleet-windows.js';
import { LATENCY_BOUNDS_MS } from './latency.js';

/** What a job run is labelled with: its task, or `part` for a part of a split document. */
export type JobTask = 'generate' | 'summarize' | 'part' | 'unknown';

/**
 * How one run of a job by a worker ended: `completed`, `failed` (a failed result, or a part
 * that failed), `duplicate` (the id already had a result), `requeued` (every model busy, or
 * shutdown: the job waits in the queue again), `waiting_children` (a split document waits for
 * its parts), `retry` (an infrastructure error; BullMQ runs the job again).
 */
export type JobRunStatus = 'completed' | 'failed' | 'duplicate' | 'requeued' | 'waiting_children' | 'retry';

/** The value of `bedrock_jobs_breaker_state` for each state. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  half_open: 0.5,
  open: 1,
  isolated: 1,
};

export interface WorkerMetricsOptions {
  /** Prices of the models, for cost. */
  catalog: ModelCatalog;
  /** This worker's breakers now, read at scrape time. */
  breakers: () => Record<string, BreakerView>;
  /** The fleet's rates and breakers, read at scrape time; absent: those gauges are left out. */
  fleet?: () => Promise<ModelFleetState[]>;
}

const SECONDS_PER_MS = 1 / 1000;

/**
 * The Prometheus metrics of one worker process, in a registry of its own (README.md,
 * "Metrics", lists each). The worker's shell feeds it from the pipeline's events; the breaker
 * and fleet gauges are read when scraped.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'model' | 'outcome'>;
  private readonly callSeconds: Histogram<'model' | 'outcome'>;
  private readonly refusals: Counter<'model' | 'reason'>;
  private readonly retries: Counter<'model' | 'kind'>;
  private readonly throttled: Counter<'model'>;
  private readonly tokens: Counter<'model' | 'direction'>;
  private readonly cost: Counter<'model' | 'lane'>;
  private readonly onlineEquivalent: Counter<'model'>;
  private readonly offlineRecords: Counter<'model'>;
  private readonly rateWait: Counter<'model'>;
  private readonly fallbacks: Counter<'from' | 'to'>;
  private readonly breakerOpens: Counter<'model'>;
  private readonly jobSeconds: Histogram<'task' | 'status'>;
  private readonly queueWait: Histogram<'task'>;
  private readonly active: Gauge;

  constructor(private readonly o: WorkerMetricsOptions) {
    const registers = [this.registry];
    const breakers = o.breakers;
    collectDefaultMetrics({ register: this.registry, prefix: 'bedrock_jobs_worker_' });
    this.calls = new Counter({
      name: 'bedrock_jobs_model_calls_total',
      help: 'Calls that reached a model, by how they ended: ok or an error kind',
      labelNames: ['model', 'outcome'],
      registers,
    });
    this.callSeconds = new Histogram({
      name: 'bedrock_jobs_model_call_duration_seconds',
      help: 'Time from sending a call to its answer or error, by model and outcome',
      labelNames: ['model', 'outcome'],
      buckets: LATENCY_BOUNDS_MS.map((ms) => ms * SECONDS_PER_MS),
      registers,
    });
    this.refusals = new Counter({
      name: 'bedrock_jobs_model_refusals_total',
      help: 'Attempts refused before any call: circuit_open (breaker) or rate_limited (fleet slot too far away)',
      labelNames: ['model', 'reason'],
      registers,
    });
    this.retries = new Counter({
      name: 'bedrock_jobs_model_retries_total',
      help: 'Calls the policy makes again on the same model after a backoff, by the kind that failed',
      labelNames: ['model', 'kind'],
      registers,
    });
    this.throttled = new Counter({
      name: 'bedrock_jobs_throttled_calls_total',
      help: 'Calls Bedrock throttled (HTTP 429 ThrottlingException)',
      labelNames: ['model'],
      registers,
    });
    this.tokens = new Counter({
      name: 'bedrock_jobs_tokens_total',
      help: 'Tokens of answered calls, direction in (prompt) or out (completion)',
      labelNames: ['model', 'direction'],
      registers,
    });
    this.cost = new Counter({
      name: 'bedrock_jobs_cost_usd_total',
      help: 'Cost of answered calls in US dollars: lane online at on-demand prices, lane offline at batch-inference prices',
      labelNames: ['model', 'lane'],
      registers,
    });
    this.onlineEquivalent = new Counter({
      name: 'bedrock_jobs_offline_online_equivalent_usd_total',
      help: 'What the answers of the offline lane would have cost at on-demand prices, in US dollars',
      labelNames: ['model'],
      registers,
    });
    this.offlineRecords = new Counter({
      name: 'bedrock_jobs_offline_results_total',
      help: "Records read back from batch-inference output by this worker: a job's result, or one chunk of a summary in parts",
      labelNames: ['model'],
      registers,
    });
    this.rateWait = new Counter({
      name: 'bedrock_jobs_rate_limit_wait_seconds_total',
      help: "Time calls waited for the fleet rate limiter's slot before being sent",
      labelNames: ['model'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'bedrock_jobs_fallbacks_total',
      help: 'Times a job left one model of its chain for the next',
      labelNames: ['from', 'to'],
      registers,
    });
    this.breakerOpens = new Counter({
      name: 'bedrock_jobs_breaker_opens_total',
      help: "Times this worker's breaker of a model opened",
      labelNames: ['model'],
      registers,
    });
    new Gauge({
      name: 'bedrock_jobs_breaker_state',
      help: "This worker's breaker of a model: 0 closed, 0.5 half-open (probe in flight), 1 open",
      labelNames: ['model'],
      registers,
      collect() {
        for (const [model, view] of Object.entries(breakers()))
          this.set({ model }, BREAKER_STATE_VALUE[view.state]);
      },
    });
    this.jobSeconds = new Histogram({
      name: 'bedrock_jobs_job_duration_seconds',
      help: 'Time one run of a job took in this worker, by task and how the run ended',
      labelNames: ['task', 'status'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.queueWait = new Histogram({
      name: 'bedrock_jobs_job_queue_wait_seconds',
      help: 'Time from enqueue to the first start of a job, by task',
      labelNames: ['task'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.active = new Gauge({
      name: 'bedrock_jobs_worker_active_jobs',
      help: 'Jobs this worker is running now',
      registers,
    });
    if (o.fleet) registerFleetGauges(this.registry, o.fleet);
  }

  /** A call reached a model: counted with its latency, and its tokens and cost when answered. */
  call(e: CallEvent): void {
    const labels = { model: e.modelId, outcome: e.outcome };
    this.calls.inc(labels);
    this.callSeconds.observe(labels, e.latencyMs * SECONDS_PER_MS);
    if (e.outcome === 'throttled') this.throttled.inc({ model: e.modelId });
    if (!e.usage) return;
    this.tokens.inc({ model: e.modelId, direction: 'in' }, e.usage.inputTokens);
    this.tokens.inc({ model: e.modelId, direction: 'out' }, e.usage.outputTokens);
    const info = this.o.catalog.resolve(e.modelId)?.info;
    if (info) this.cost.inc({ model: e.modelId, lane: 'online' }, costUsd(info, e.usage));
  }

  /** A result of the offline lane: its tokens, its batch price, and what it would have cost online. */
  offlineResult(e: { modelId: string; usage: Usage; costUsd: number; onlineCostUsd: number }): void {
    this.offlineRecords.inc({ model: e.modelId });
    this.tokens.inc({ model: e.modelId, direction: 'in' }, e.usage.inputTokens);
    this.tokens.inc({ model: e.modelId, direction: 'out' }, e.usage.outputTokens);
    this.cost.inc({ model: e.modelId, lane: 'offline' }, e.costUsd);
    this.onlineEquivalent.inc({ model: e.modelId }, e.onlineCostUsd);
  }

  refused(model: string, reason: RefusalReason): void {
    this.refusals.inc({ model, reason });
  }

  retry(model: string, kind: ModelErrorKind): void {
    this.retries.inc({ model, kind });
  }

  rateLimited(model: string, waitMs: number): void {
    this.rateWait.inc({ model }, waitMs * SECONDS_PER_MS);
  }

  fallback(from: string, to: string): void {
    this.fallbacks.inc({ from, to });
  }

  breakerOpened(model: string): void {
    this.breakerOpens.inc({ model });
  }

  /** A job run started; `queueWaitMs` only on its first start. */
  jobStarted(run: { task: JobTask; queueWaitMs?: number }): void {
    this.active.inc();
    if (run.queueWaitMs !== undefined)
      this.queueWait.observe({ task: run.task }, Math.max(0, run.queueWaitMs) * SECONDS_PER_MS);
  }

  jobEnded(run: { task: JobTask; status: JobRunStatus; durationMs: number }): void {
    this.active.dec();
    this.jobSeconds.observe(
      { task: run.task, status: run.status },
      Math.max(0, run.durationMs) * SECONDS_PER_MS,
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
