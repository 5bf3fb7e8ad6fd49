import {
  type Job as BullJob,
  Job as BullJobClass,
  type Queue,
  UnrecoverableError,
  WaitingError,
  Worker,
} from 'bullmq';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { ModelCatalog, ResolvedModel } from '../models/catalog.js';
import type { RedisClient } from '../redis/connect.js';
import { PART_JOB } from '../redis/names.js';
import type { BreakerRegistry } from '../resilience/breaker.js';
import { type PolicySource, runChain } from '../resilience/chain.js';
import type { ResilienceEmitter } from '../resilience/events.js';
import type { RateLimiter } from '../resilience/ratelimit.js';
import { type FailureKind, failureKind, type ResultRecordInput } from '../results/record.js';
import type { ResultStore } from '../results/store.js';
import type { TokenCalibration } from '../summarize/calibration.js';
import { chainOutcome, type SummaryOutcome, servedModel } from '../summarize/plan.js';
import { jobLogs } from './call-log.js';
import { generateRequest } from './job-request.js';
import { chainSpills, type QueuedJob, QueuedJobSchema, validateJobModels } from './jobs.js';
import { type FailureOutcome, failureOutcome } from './outcome.js';
import { type SplitDeps, type SplitOptions, summarizeJob } from './split.js';
import { isJobValidationError, toJobIssues } from './validation.js';

/** What the processor runs jobs with: the worker's pipeline, store, connection and queue. */
export interface ProcessorDeps {
  config: Config;
  catalog: ModelCatalog;
  policies: PolicySource;
  limiter?: RateLimiter;
  store: ResultStore;
  /** Our own connection (split-job stages). */
  redis: RedisClient;
  /** The jobs queue: slowed with `rateLimit` when every model is busy; parts of split documents are added to it. */
  queue: Queue;
  breakers?: BreakerRegistry;
  /** Per-model token calibration learned from answers; shrinks summary chunk budgets. */
  calibration?: TokenCalibration;
  logger: Logger;
  events?: ResilienceEmitter;
  /** Times the chain's wake-ups; the worker's clock. */
  clock?: Clock;
  now?: () => Date;
  /** Settings of split documents; every field has a default. */
  split?: SplitOptions;
  /**
   * Ids as sent that the preflight found the account may not use: jobs skip them without a
   * call, unless every model of the job is in it (then Bedrock's own answers fail the job).
   */
  unusableModels?: ReadonlySet<string>;
}

/** What a processed job returns to BullMQ (and to a parent job). */
export type JobOutcome =
  | { id: string; status: 'completed' | 'failed' | 'duplicate'; modelId?: string }
  | SummaryOutcome;

/** The fields of a result record every step knows before the job ends. */
type ResultBase = Omit<
  ResultRecordInput,
  'status' | 'text' | 'stopReason' | 'modelId' | 'error' | 'finishedAt'
>;

/**
 * What differs between a document's job and one part of a split document: a document has a
 * result of its own, a part hands its summary, or its failure, to its parent.
 */
interface JobRole {
  /** The outcome to return at once when the job has nothing left to do, else undefined. */
  done(job: QueuedJob, log: Logger): Promise<JobOutcome | undefined>;
  /** Hands on a summary: stored as the job's result, or returned to the parent. */
  deliver(base: ResultBase, out: SummaryOutcome, log: Logger): Promise<JobOutcome>;
  /** Records a final failure: a failed result for a document; nothing for a part, whose parent fails. */
  fail(base: ResultBase, failure: Extract<FailureOutcome, { action: 'fail' }>, log: Logger): Promise<void>;
}

/** The message of an invalid payload, every field named. */
function invalidPayloadMessage(error: Parameters<typeof toJobIssues>[1]): string {
  return `invalid job: ${toJobIssues('job', error)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ')}`;
}

/**
 * The BullMQ processor: runs one job down its fallback chain and writes its result once.
 * Each job goes through the same steps: parse the payload, stop early when there is nothing
 * left to do, resolve its models, run the chain (or the split flow for a summary), then hand
 * the result on. A failure is mapped once by {@link failureOutcome}:
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
  const finishedAt = () => now().toISOString();
  const chain = {
    policies: deps.policies,
    ...(deps.limiter ? { limiter: deps.limiter } : {}),
    ...(deps.events ? { events: deps.events } : {}),
    busyWaitMs: deps.config.worker.busyBackoffMs,
    recheckMs: deps.config.worker.breakerRefreshMs,
    ...(deps.clock ? { clock: deps.clock } : {}),
  };
  const split: SplitDeps = {
    config: deps.config,
    catalog: deps.catalog,
    redis: deps.redis,
    queue: deps.queue,
    chain,
    ...(deps.breakers ? { breakers: deps.breakers } : {}),
    ...(deps.calibration ? { calibration: deps.calibration } : {}),
    ...(deps.split ? { options: deps.split } : {}),
  };

  async function saveFailed(base: ResultBase, error: string, errorKind: FailureKind): Promise<void> {
    await deps.store.save({
      ...base,
      status: 'failed',
      text: null,
      stopReason: null,
      modelId: null,
      error,
      errorKind,
      finishedAt: finishedAt(),
    });
  }

  const documentRole: JobRole = {
    async done(job, log) {
      const result = await deps.store.get(job.id);
      // A failed result of an older generation is one a retry on purpose queued this job to
      // replace, and has not superseded yet: the job still runs.
      if (!result || (result.retry ?? 0) < (job.retry ?? 0)) return undefined;
      log.info('job already has a result; not run again');
      return { id: job.id, status: 'duplicate' };
    },
    async deliver(base, out, log) {
      await deps.store.save({
        ...base,
        status: 'completed',
        text: out.text,
        stopReason: out.stopReason,
        modelId: out.modelId,
        attempts: out.attempts,
        usage: out.usage,
        costUsd: out.costUsd,
        // A summary whose parts ran offline counts in the offline lane, its merge included.
        ...(out.onlineCostUsd !== undefined ? { lane: 'offline', onlineCostUsd: out.onlineCostUsd } : {}),
        finishedAt: finishedAt(),
      });
      log.info({ model: out.modelId, attempts: out.attempts.length, parts: out.parts }, 'job completed');
      return { id: base.id, status: 'completed', modelId: out.modelId };
    },
    async fail(base, failure, log) {
      const kind = failureKind({ attempts: failure.attempts });
      await saveFailed({ ...base, attempts: failure.attempts }, failure.message, kind);
      log.warn({ attempts: failure.attempts.length, reason: failure.message }, 'job failed');
    },
  };

  function partRole(bull: BullJob<unknown>): JobRole {
    return {
      // A part whose document already failed (another part failed first) has nothing left to do.
      async done(job, log) {
        if (!bull.parent?.id) return undefined;
        const parent = await BullJobClass.fromId(deps.queue, bull.parent.id);
        if (parent && (await parent.getState()) !== 'failed') return undefined;
        log.info('the document this part belongs to has failed; part dropped');
        return { id: job.id, status: 'failed' };
      },
      // A part of a split document hands its summary to the parent instead of storing a result.
      deliver: async (_base, out) => out,
      fail: async () => {},
    };
  }

  /** Step 1: the payload as a job; an invalid one gets a failed result naming each field. */
  async function parse(bull: BullJob<unknown>, startedAt: string): Promise<QueuedJob> {
    const parsed = QueuedJobSchema.safeParse(bull.data);
    if (parsed.success) return parsed.data;
    const data = (typeof bull.data === 'object' && bull.data !== null ? bull.data : {}) as {
      batchId?: unknown;
      enqueuedAt?: unknown;
    };
    const message = invalidPayloadMessage(parsed.error);
    const enqueuedAt =
      typeof data.enqueuedAt === 'string' && !Number.isNaN(Date.parse(data.enqueuedAt))
        ? data.enqueuedAt
        : startedAt;
    await saveFailed(
      {
        id: bull.id ?? 'unknown',
        batchId: typeof data.batchId === 'string' ? data.batchId : null,
        attempts: [],
        usage: { inputTokens: 0, outputTokens: 0 },
        costUsd: 0,
        lane: 'online',
        enqueuedAt,
        startedAt,
      },
      message,
      'invalid_job',
    );
    throw new UnrecoverableError(message);
  }

  /** Step 3: the models of the job's chain, less those the preflight found unusable; unknown ones fail the job at once. */
  async function resolveModels(job: QueuedJob, base: ResultBase): Promise<ResolvedModel[]> {
    try {
      const models = validateJobModels(job, deps.catalog, deps.config).map((id) => deps.catalog.resolve(id)!);
      const usable = models.filter((m) => !deps.unusableModels?.has(m.requestId));
      return usable.length > 0 ? usable : models;
    } catch (e) {
      const message = isJobValidationError(e) ? e.message : String(e);
      await saveFailed({ ...base, attempts: [] }, message, 'invalid_job');
      throw new UnrecoverableError(message);
    }
  }

  /** Step 4: a generate job down the chain, or a summary through the split flow. */
  async function run(
    bull: BullJob<unknown>,
    job: QueuedJob,
    models: ResolvedModel[],
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<SummaryOutcome> {
    if (job.task === 'summarize') return summarizeJob(split, bull, job, models, token, signal);
    const out = await runChain({
      ...chain,
      models,
      request: generateRequest(job),
      api: job.api,
      spill: chainSpills(job, deps.config),
      ...(signal ? { signal } : {}),
    });
    return chainOutcome(servedModel(deps.catalog, models, out.modelId), out);
  }

  /** Step 6: whatever the run threw, as {@link failureOutcome} maps it. Always throws. */
  async function settle(
    error: unknown,
    ctx: { bull: BullJob<unknown>; token: string | undefined; role: JobRole; base: ResultBase; log: Logger },
  ): Promise<never> {
    const { bull, base, log } = ctx;
    const outcome = failureOutcome(error, {
      attemptsMade: bull.attemptsMade,
      attempts: bull.opts.attempts ?? 1,
      busyBackoffMs: deps.config.worker.busyBackoffMs,
    });
    switch (outcome.action) {
      case 'waitChildren':
        throw error;
      case 'busy':
        log.debug({ waitMs: outcome.waitMs }, 'every model busy; slowing the queue');
        await deps.queue.rateLimit(outcome.pauseMs);
        throw Worker.RateLimitError();
      case 'handBack':
        log.info('shutting down; job handed back to the queue');
        await bull.moveToWait(ctx.token);
        throw new WaitingError();
      case 'fail':
        await ctx.role.fail(base, outcome, log);
        throw new UnrecoverableError(outcome.message);
      case 'retry':
        if (outcome.lastAttempt)
          await saveFailed(base, outcome.message, 'worker_error').catch(() => undefined);
        throw error;
    }
  }

  return async function process(
    bull: BullJob<unknown>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<JobOutcome> {
    const startedAt = now().toISOString();
    const job = await parse(bull, startedAt);
    const role = bull.name === PART_JOB ? partRole(bull) : documentRole;
    const log = deps.logger.child({ jobId: job.id, batchId: job.batchId, task: job.task });
    const base: ResultBase = {
      id: job.id,
      batchId: job.batchId ?? null,
      attempts: [],
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
      lane: 'online',
      enqueuedAt: job.enqueuedAt,
      startedAt,
      // A retried job's result is of its generation: a late one of the run it replaced is refused.
      ...(job.retry !== undefined ? { retry: job.retry } : {}),
    };
    // Step 2: nothing left to do.
    const done = await role.done(job, log);
    if (done) return done;
    const models = await resolveModels(job, base);
    try {
      // Model calls made for this job log with its ids (`call-log.ts`).
      const out = await jobLogs.run(log, () => run(bull, job, models, token, signal));
      // Step 5: the result goes where the job's role says.
      return await role.deliver(base, out, log);
    } catch (e) {
      return settle(e, { bull, token, role, base, log });
    }
  };
}
