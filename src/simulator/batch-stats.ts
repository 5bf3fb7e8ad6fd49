import type { BatchJobEvent } from './control.js';

/** Model invocation jobs of one model key, for `/_sim/stats`. */
export interface BatchModelStats {
  /** Jobs created (an idempotent repeat of a create is not counted). */
  jobsCreated: number;
  /** Jobs that ended, by their last status. */
  jobsEnded: Partial<Record<Exclude<BatchJobEvent, 'created'>, number>>;
  /** Records answered, with an answer or with an error. */
  recordsProcessed: number;
  recordsSucceeded: number;
  recordsFailed: number;
  inputTokens: number;
  outputTokens: number;
}

/** `batch` of `GET /_sim/stats`: per model key, and added up. */
export interface BatchStatsSnapshot {
  models: Record<string, BatchModelStats>;
  total: BatchModelStats;
}

const empty = (): BatchModelStats => ({
  jobsCreated: 0,
  jobsEnded: {},
  recordsProcessed: 0,
  recordsSucceeded: 0,
  recordsFailed: 0,
  inputTokens: 0,
  outputTokens: 0,
});

function add(into: BatchModelStats, from: BatchModelStats): void {
  into.jobsCreated += from.jobsCreated;
  into.recordsProcessed += from.recordsProcessed;
  into.recordsSucceeded += from.recordsSucceeded;
  into.recordsFailed += from.recordsFailed;
  into.inputTokens += from.inputTokens;
  into.outputTokens += from.outputTokens;
  for (const [status, n] of Object.entries(from.jobsEnded) as [keyof BatchModelStats['jobsEnded'], number][])
    into.jobsEnded[status] = (into.jobsEnded[status] ?? 0) + n;
}

/**
 * Counters of model invocation jobs: how many were created per model and how many records
 * they answered, so a test can prove that nothing was submitted twice.
 */
export class BatchStats {
  private readonly models = new Map<string, BatchModelStats>();

  private entry(key: string): BatchModelStats {
    let e = this.models.get(key);
    if (!e) {
      e = empty();
      this.models.set(key, e);
    }
    return e;
  }

  job(key: string, event: BatchJobEvent): void {
    const e = this.entry(key);
    if (event === 'created') e.jobsCreated++;
    else e.jobsEnded[event] = (e.jobsEnded[event] ?? 0) + 1;
  }

  records(key: string, c: { ok: number; errors: number; inputTokens: number; outputTokens: number }): void {
    const e = this.entry(key);
    e.recordsProcessed += c.ok + c.errors;
    e.recordsSucceeded += c.ok;
    e.recordsFailed += c.errors;
    e.inputTokens += c.inputTokens;
    e.outputTokens += c.outputTokens;
  }

  snapshot(): BatchStatsSnapshot {
    const models: Record<string, BatchModelStats> = {};
    const total = empty();
    for (const [key, e] of this.models) {
      models[key] = { ...e, jobsEnded: { ...e.jobsEnded } };
      add(total, e);
    }
    return { models, total };
  }

  reset(): void {
    this.models.clear();
  }
}
