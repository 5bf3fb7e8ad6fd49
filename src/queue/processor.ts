import {
  type Job as BullJob,
  Job as BullJobClass,
  type Queue,
  UnrecoverableError,
  WaitingChildrenError,
  WaitingError,
  Worker,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ModelCatalog, ResolvedModel } from '../models/catalog.js';
import { DEFAULT_MAX_TOKENS } from '../models/families/common.js';
import { costUsd } from '../models/info.js';
import type { ModelRequest } from '../models/request.js';
import type { AttemptRecord } from '../resilience/attempt.js';
import type { BreakerRegistry } from '../resilience/breaker.js';
import type { PolicySource } from '../resilience/chain.js';
import { runChain } from '../resilience/chain.js';
import {
  AllModelsBusyError,
  ChainAbortedError,
  ChainExhaustedError,
  InvalidJobError,
} from '../resilience/errors.js';
import type { ResilienceEmitter } from '../resilience/events.js';
import type { RateLimiter } from '../resilience/ratelimit.js';
import type { ResultRecordInput } from '../results/record.js';
import type { ResultStore } from '../results/store.js';
import type { TokenCalibration } from '../summarize/calibration.js';
import { PART_JOB, PartFailedError, type SummaryOutcome, summarize } from '../summarize/flow.js';
import { type QueuedJob, QueuedJobSchema, validateJobModels } from './jobs.js';
import { isJobValidationError, toJobIssues } from './validation.js';

export interface ProcessorDeps {
  config: Config;
  catalog: ModelCatalog;
  policies: PolicySource;
  limiter?: RateLimiter;
  store: ResultStore;
  /** Our own connection (split-job stages). */
  redis: Redis;
  /** The jobs queue: slowed with `rateLimit` when every model is busy; parts of split documents are added to it. */
  queue: Queue;
  breakers?: BreakerRegistry;
  /** Per-model token calibration learned from answers; shrinks summary chunk budgets. */
  calibration?: TokenCalibration;
  logger: Logger;
  events?: ResilienceEmitter;
  now?: () => Date;
}

/** What a processed job returns to BullMQ (and to a parent job). */
export type JobOutcome =
  | { id: string; status: 'completed' | 'failed' | 'duplicate'; modelId?: string }
  | SummaryOutcome;

/** The unified request of a generate job; summarize jobs are built per model. */
function generateRequest(job: QueuedJob): ModelRequest {
  return {
    ...(job.system ? { system: job.system } : {}),
    messages: job.messages ?? [],
    // The adapters' default, made explicit so the fleet limiter reserves what will be asked for.
    params: { ...job.params, maxTokens: job.params?.maxTokens ?? DEFAULT_MAX_TOKENS },
    ...(job.native ? { native: job.native } : {}),
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
    if (bull.name !== PART_JOB && (await deps.store.get(job.id))) {
      log.info('job already has a result; not run again');
      return { id: job.id, status: 'duplicate' };
    }
    // A part whose document already failed (another part failed first) has nothing left to do.
    if (bull.name === PART_JOB && bull.parent?.id) {
      const parent = await BullJobClass.fromId(deps.queue, bull.parent.id);
      if (!parent || (await parent.getState()) === 'failed') {
        log.info('the document this part belongs to has failed; part dropped');
        return { id: job.id, status: 'failed' };
      }
    }

    let models: ResolvedModel[];
    try {
      models = validateJobModels(job, deps.catalog, deps.config).map((id) => deps.catalog.resolve(id)!);
    } catch (e) {
      const message = isJobValidationError(e) ? e.message : String(e);
      await fail({ ...base, attempts: [], finishedAt: now().toISOString() }, message);
      throw new UnrecoverableError(message);
    }

    const chainDeps = {
      policies: deps.policies,
      ...(deps.limiter ? { limiter: deps.limiter } : {}),
      ...(deps.events ? { events: deps.events } : {}),
      busyWaitMs: deps.config.worker.busyBackoffMs,
    };
    try {
      let out: SummaryOutcome;
      if (job.task === 'summarize') {
        out = await summarize(
          {
            config: deps.config,
            catalog: deps.catalog,
            redis: deps.redis,
            queue: deps.queue,
            prefix: deps.config.prefix,
            chain: chainDeps,
            ...(deps.breakers ? { breakers: deps.breakers } : {}),
            ...(deps.calibration ? { calibration: deps.calibration } : {}),
          },
          bull,
          job,
          models,
          token,
          signal,
        );
      } else {
        const chained = await runChain({
          ...chainDeps,
          models,
          request: generateRequest(job),
          api: job.api,
          ...(signal ? { signal } : {}),
        });
        const served =
          models.find((m) => m.requestId === chained.modelId) ?? deps.catalog.resolve(chained.modelId);
        const reply = chained.reply;
        out = {
          text: reply.text,
          stopReason: reply.stopReason,
          modelId: chained.modelId,
          usage: reply.usage,
          costUsd: served ? costUsd(served.info, reply.usage) : 0,
          attempts: chained.attempts,
          parts: 0,
        };
      }
      // A part of a split document hands its summary to the parent instead of storing a result.
      if (bull.name === PART_JOB) return out;
      await deps.store.save({
        ...base,
        status: 'completed',
        text: out.text,
        stopReason: out.stopReason,
        modelId: out.modelId,
        attempts: out.attempts,
        usage: out.usage,
        costUsd: out.costUsd,
        finishedAt: now().toISOString(),
      });
      log.info({ model: out.modelId, attempts: out.attempts.length, parts: out.parts }, 'job completed');
      return { id: job.id, status: 'completed', modelId: out.modelId };
    } catch (e) {
      if (e instanceof WaitingChildrenError) throw e;
      if (e instanceof AllModelsBusyError) {
        log.debug({ waitMs: e.waitMs }, 'every model busy; slowing the queue');
        // The pause holds the whole queue, so it is capped: jobs of other chains may be able to run.
        await deps.queue.rateLimit(Math.min(e.waitMs, 5 * deps.config.worker.busyBackoffMs));
        throw Worker.RateLimitError();
      }
      if (e instanceof ChainAbortedError) {
        log.info('shutting down; job handed back to the queue');
        await bull.moveToWait(token);
        throw new WaitingError();
      }
      if (e instanceof InvalidJobError || e instanceof ChainExhaustedError || e instanceof PartFailedError) {
        if (bull.name === PART_JOB) throw new UnrecoverableError(e.message);
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
