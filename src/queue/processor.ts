import { type Job as BullJob, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { costUsd, type ModelCatalog, type ResolvedModel } from '../models/catalog.js';
import type { ModelRequest } from '../models/request.js';
import type { PolicySource } from '../resilience/chain.js';
import { runChain } from '../resilience/chain.js';
import {
  AllModelsBusyError,
  ChainAbortedError,
  ChainExhaustedError,
  InvalidJobError,
} from '../resilience/errors.js';
import type { ResilienceEmitter } from '../resilience/events.js';
import type { AttemptRecord } from '../resilience/policy.js';
import type { RateLimiter } from '../resilience/ratelimit.js';
import type { ResultRecordInput } from '../results/record.js';
import type { ResultStore } from '../results/store.js';
import { documentBudget, fitsInOneCall } from '../summarize/chunk.js';
import { buildSummaryRequest } from '../summarize/prompt.js';
import { type QueuedJob, QueuedJobSchema, validateJobModels } from './jobs.js';
import { isJobValidationError, toJobIssues } from './validation.js';

export interface ProcessorDeps {
  config: Config;
  catalog: ModelCatalog;
  policies: PolicySource;
  limiter?: RateLimiter;
  store: ResultStore;
  /** Slows the whole queue (BullMQ `queue.rateLimit`) when every model is busy. */
  rateLimit(ms: number): Promise<void>;
  logger: Logger;
  events?: ResilienceEmitter;
  now?: () => Date;
}

/** What a processed job returns to BullMQ (and to a parent job). */
export interface JobOutcome {
  id: string;
  status: 'completed' | 'failed' | 'duplicate';
  modelId?: string;
}

/** The unified request of a generate job; summarize jobs are built per model. */
function generateRequest(job: QueuedJob): ModelRequest {
  return {
    ...(job.system ? { system: job.system } : {}),
    messages: job.messages ?? [],
    ...(job.params ? { params: job.params } : {}),
    ...(job.native ? { native: job.native } : {}),
  };
}

/**
 * The request for one model of the chain. A summarize prompt is written in that model's
 * family template; a document too long for the model's window is skipped here (recorded as
 * `context_overflow` without a call) so the chain moves on to a model that can take it.
 */
function prepareFor(job: QueuedJob, config: Config): (model: ResolvedModel) => ModelRequest | 'skip' {
  if (job.task === 'generate') {
    const request = generateRequest(job);
    return () => request;
  }
  const document = job.document ?? '';
  return (model) => {
    const maxTokens = job.params?.maxTokens ?? config.summarize.maxOutputTokens;
    if (!fitsInOneCall(document, model.family, documentBudget(model.info, maxTokens))) return 'skip';
    return buildSummaryRequest({
      document,
      family: model.family,
      ...(job.language ? { language: job.language } : {}),
      params: { ...job.params, maxTokens },
      ...(job.native ? { native: job.native } : {}),
      config,
    });
  };
}

/**
 * The BullMQ processor: runs one job down its fallback chain and writes its result once.
 *
 * - every model busy (throttled or open) → the queue is rate-limited and the job waits
 *   without spending an attempt;
 * - the job is invalid, or every model failed → a failed result and `UnrecoverableError`;
 * - shutdown aborts the chain → the job goes back to the queue untouched;
 * - anything else (Redis down, a bug) → thrown, so BullMQ retries it; on the last attempt a
 *   failed result is written first, so a batch always finishes.
 */
export function createProcessor(deps: ProcessorDeps) {
  const now = deps.now ?? (() => new Date());

  async function fail(
    base: Omit<ResultRecordInput, 'status' | 'text' | 'stopReason' | 'modelId' | 'error'>,
    error: string,
  ): Promise<void> {
    await deps.store.save({ ...base, status: 'failed', text: null, stopReason: null, modelId: null, error });
  }

  return async function process(
    bull: BullJob<unknown>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<JobOutcome> {
    const startedAt = now().toISOString();
    const parsed = QueuedJobSchema.safeParse(bull.data);
    if (!parsed.success) {
      const id = bull.id ?? 'unknown';
      const data = (typeof bull.data === 'object' && bull.data !== null ? bull.data : {}) as {
        batchId?: unknown;
        enqueuedAt?: unknown;
      };
      const message = `invalid job: ${toJobIssues('job', parsed.error)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`;
      const enqueuedAt =
        typeof data.enqueuedAt === 'string' && !Number.isNaN(Date.parse(data.enqueuedAt))
          ? data.enqueuedAt
          : startedAt;
      const batchId = typeof data.batchId === 'string' ? data.batchId : null;
      await fail(
        {
          id,
          batchId,
          attempts: [],
          usage: { inputTokens: 0, outputTokens: 0 },
          costUsd: 0,
          enqueuedAt,
          startedAt,
          finishedAt: now().toISOString(),
        },
        message,
      );
      throw new UnrecoverableError(message);
    }
    const job = parsed.data;
    const log = deps.logger.child({ jobId: job.id, batchId: job.batchId, task: job.task });
    const base = {
      id: job.id,
      batchId: job.batchId ?? null,
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
      enqueuedAt: job.enqueuedAt,
      startedAt,
    };
    if (await deps.store.get(job.id)) {
      log.info('job already has a result; not run again');
      return { id: job.id, status: 'duplicate' };
    }

    let models: ResolvedModel[];
    try {
      models = validateJobModels(job, deps.catalog, deps.config).map((id) => deps.catalog.resolve(id)!);
    } catch (e) {
      const message = isJobValidationError(e) ? e.message : String(e);
      await fail({ ...base, attempts: [], finishedAt: now().toISOString() }, message);
      throw new UnrecoverableError(message);
    }

    try {
      const out = await runChain({
        models,
        request: job.task === 'generate' ? generateRequest(job) : { messages: [] },
        api: job.api,
        policies: deps.policies,
        prepare: prepareFor(job, deps.config),
        ...(signal ? { signal } : {}),
        ...(deps.limiter ? { limiter: deps.limiter } : {}),
        ...(deps.events ? { events: deps.events } : {}),
        busyWaitMs: deps.config.worker.busyBackoffMs,
      });
      const served = models.find((m) => m.requestId === out.modelId) ?? deps.catalog.resolve(out.modelId);
      await deps.store.save({
        ...base,
        status: 'completed',
        text: out.reply.text,
        stopReason: out.reply.stopReason,
        modelId: out.modelId,
        attempts: out.attempts,
        usage: out.reply.usage,
        costUsd: served ? costUsd(served.info, out.reply.usage) : 0,
        finishedAt: now().toISOString(),
      });
      log.info(
        { model: out.modelId, fellBack: out.fellBack, attempts: out.attempts.length },
        'job completed',
      );
      return { id: job.id, status: 'completed', modelId: out.modelId };
    } catch (e) {
      if (e instanceof AllModelsBusyError) {
        log.debug({ waitMs: e.waitMs }, 'every model busy; slowing the queue');
        await deps.rateLimit(e.waitMs);
        throw Worker.RateLimitError();
      }
      if (e instanceof ChainAbortedError) {
        log.info('shutting down; job handed back to the queue');
        await bull.moveToWait(token);
        throw new WaitingError();
      }
      if (e instanceof InvalidJobError || e instanceof ChainExhaustedError) {
        await fail({ ...base, attempts: e.attempts, finishedAt: now().toISOString() }, e.message);
        log.warn({ attempts: e.attempts.length, reason: e.message }, 'job failed');
        throw new UnrecoverableError(e.message);
      }
      const attempts: AttemptRecord[] = [];
      if (bull.attemptsMade + 1 >= (bull.opts.attempts ?? 1)) {
        await fail(
          { ...base, attempts, finishedAt: now().toISOString() },
          `worker error: ${e instanceof Error ? e.message : String(e)}`,
        ).catch(() => undefined);
      }
      throw e;
    }
  };
}
