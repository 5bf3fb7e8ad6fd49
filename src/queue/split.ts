import { type Job as BullJob, type Queue, WaitingChildrenError } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { ModelCatalog, ResolvedModel } from '../models/catalog.js';
import type { RedisClient } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { PART_JOB } from '../redis/names.js';
import type { AttemptRecord } from '../resilience/attempt.js';
import type { BreakerRegistry } from '../resilience/breaker.js';
import type { ChainInput } from '../resilience/chain.js';
import { ChainExhaustedError } from '../resilience/errors.js';
import type { TokenCalibration } from '../summarize/calibration.js';
import { chunkDocument } from '../summarize/chunk.js';
import {
  chainOutcome,
  chunkBudget,
  mergeParts,
  nextStage,
  planningOrder,
  replanTarget,
  type SummaryOutcome,
  type SummaryStage,
  servedModel,
  splitTarget,
} from '../summarize/plan.js';
import { detectLanguage } from '../summarize/prompt.js';
import { runSummaryChain } from '../summarize/summary-chain.js';
import { DAY, SECOND } from '../units.js';
import { chainSpills, type QueuedJob, storedJob } from './jobs.js';

/** Settings of split documents that are not in the config. */
const SplitOptionsSchema = z
  .object({
    stageTtlSeconds: z
      .number()
      .int()
      .positive()
      .default((7 * DAY) / SECOND)
      .describe("how long a split document's progress is kept between rounds of parts"),
    partBackoffDelayMs: z
      .number()
      .int()
      .positive()
      .default(SECOND)
      .describe('first retry delay of a part whose document job names no backoff; doubles per attempt'),
  })
  .strict();
/** Settings of split documents; every field may be left out. */
export type SplitOptions = z.input<typeof SplitOptionsSchema>;

/** A part of a split document failed after all its fallbacks, so the document fails. */
export class PartFailedError extends Error {
  override readonly name = 'PartFailedError';
  constructor(
    message: string,
    readonly attempts: AttemptRecord[],
  ) {
    super(message);
  }
}

/** What summarizing a job needs besides the job. */
export interface SplitDeps {
  config: Config;
  catalog: ModelCatalog;
  /** Our own connection, for the stage of a split document. */
  redis: RedisClient;
  /** The jobs queue, which parts are added to. */
  queue: Queue;
  breakers?: BreakerRegistry;
  /** Learned per model from real answers; shrinks chunk budgets where our estimate runs low. */
  calibration?: TokenCalibration;
  chain: Omit<ChainInput, 'models' | 'request' | 'api' | 'prepare' | 'signal'>;
  options?: SplitOptions;
}

/** A finished part's outcome and its index in the round (BullMQ child keys end in `.p<index>`). */
function partsInOrder(values: Record<string, SummaryOutcome>): SummaryOutcome[] {
  return Object.entries(values)
    .map(([childKey, v]) => ({ index: Number(/\.p(\d+)$/.exec(childKey)?.[1] ?? 0), v }))
    .filter((x) => x.v && typeof x.v.text === 'string')
    .sort((a, b) => a.index - b.index)
    .map((x) => x.v);
}

/**
 * Summarizes a job's document, splitting it when it does not fit (map-reduce over BullMQ
 * parent/child jobs); the decisions are `summarize/plan.ts`'s:
 *
 * 1. the document fits the first model that answers → one chain call;
 * 2. it does not → it is cut into chunks that fit that model, each summarized by a child
 *    job, and this job waits (`WaitingChildrenError`) until they finish;
 * 3. resumed, it merges the partial summaries the same way, recursively if they still do
 *    not fit;
 * 4. if the chain falls back to models whose windows are all too small, the job is
 *    re-planned for the largest of them instead of failing.
 *
 * A child that fails after all its fallbacks fails this job, naming the part, and its
 * unstarted siblings are removed.
 * @throws WaitingChildrenError while parts run; PartFailedError when one failed;
 *   ChainExhaustedError / InvalidJobError / AllModelsBusyError from the chain.
 */
export async function summarizeJob(
  deps: SplitDeps,
  bull: BullJob<unknown>,
  job: QueuedJob,
  models: ResolvedModel[],
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<SummaryOutcome> {
  const options = SplitOptionsSchema.parse(deps.options ?? {});
  const key = keysFor(deps.config.prefix).splitStage(job.id);
  const maxTokens = job.params?.maxTokens ?? deps.config.summarize.maxOutputTokens;
  const budget = (m: ResolvedModel) => chunkBudget(m, maxTokens, deps.calibration?.factor(m.requestId));
  const { breakers } = deps;
  const isOpen = breakers ? (m: ResolvedModel) => breakers.get(m.requestId).rejecting : undefined;
  for (;;) {
    const saved = await deps.redis.get(key);
    let stage: SummaryStage | undefined = saved ? (JSON.parse(saved) as SummaryStage) : undefined;
    let document = job.document ?? '';
    if (stage) {
      const failed = Object.entries(await bull.getFailedChildrenValues());
      if (failed.length > 0) {
        await bull.removeUnprocessedChildren();
        await deps.redis.del(key);
        const [child, reason] = failed[0]!;
        throw new PartFailedError(`part ${child.split(':').pop()} failed: ${reason}`, stage.attempts);
      }
      ({ document, stage } = mergeParts(stage, partsInOrder(await bull.getChildrenValues<SummaryOutcome>())));
    }
    const language = stage?.language ?? job.language ?? detectLanguage(document);

    let failedAttempts: AttemptRecord[] = [];
    let splitFor = splitTarget(document, planningOrder(models, isOpen), budget);
    if (!splitFor) {
      try {
        const out = await runSummaryChain({
          document,
          language,
          reduce: stage !== undefined,
          models,
          api: job.api,
          params: { ...job.params, maxTokens },
          ...(job.native ? { native: job.native } : {}),
          config: deps.config,
          budget,
          chain: { ...deps.chain, spill: chainSpills(job, deps.config) },
          ...(deps.calibration ? { calibration: deps.calibration } : {}),
          ...(signal ? { signal } : {}),
        });
        await deps.redis.del(key);
        return chainOutcome(servedModel(deps.catalog, models, out.modelId), out, stage);
      } catch (e) {
        // Only smaller windows were left: plan again for the largest of the skipped models.
        if (!(e instanceof ChainExhaustedError)) throw e;
        splitFor = replanTarget(e.attempts, models);
        if (!splitFor) throw e;
        failedAttempts = e.attempts;
      }
    }
    const chunks = chunkDocument(document, splitFor.family, budget(splitFor));
    const next = nextStage(stage, { language, chunks: chunks.length, failedAttempts });
    await deps.redis.set(key, JSON.stringify(next), 'EX', options.stageTtlSeconds);
    await deps.queue.addBulk(
      chunks.map((chunk, index) => {
        const id = `${job.id}.r${next.round}.p${index}`;
        const data: QueuedJob = {
          id,
          task: 'summarize',
          api: job.api,
          models: models.map((m) => m.requestId),
          document: chunk,
          language,
          enqueuedAt: job.enqueuedAt,
          ...(job.params ? { params: job.params } : {}),
          ...(job.native ? { native: job.native } : {}),
        };
        return {
          name: PART_JOB,
          data: storedJob(data),
          opts: {
            jobId: id,
            attempts: bull.opts.attempts ?? 1,
            backoff: bull.opts.backoff ?? { type: 'exponential', delay: options.partBackoffDelayMs },
            parent: { id: bull.id!, queue: bull.queueQualifiedName },
            continueParentOnFailure: true,
            removeOnComplete: true,
          },
        };
      }),
    );
    if (await bull.moveToWaitingChildren(token ?? '')) throw new WaitingChildrenError();
  }
}
