import { type Job as BullJob, type Queue, WaitingChildrenError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { ModelCatalog, ResolvedModel } from '../models/catalog.js';
import { costUsd } from '../models/info.js';
import type { ModelReply, StopReason, Usage } from '../models/request.js';
import { estimateTokens } from '../models/tokens.js';
import type { QueuedJob } from '../queue/jobs.js';
import { keysFor } from '../redis/keys.js';
import type { AttemptRecord } from '../resilience/attempt.js';
import type { BreakerRegistry } from '../resilience/breaker.js';
import { type ChainInput, runChain } from '../resilience/chain.js';
import { ChainExhaustedError } from '../resilience/errors.js';
import type { TokenCalibration } from './calibration.js';
import { chunkDocument, documentBudget, fitsInOneCall } from './chunk.js';
import { buildSummaryRequest, detectLanguage } from './prompt.js';

/** BullMQ job name of one part of a split document. */
export const PART_JOB = 'part';

/** What a summary (whole, part, or merge) produced. Part jobs return it to their parent. */
export interface SummaryOutcome {
  text: string;
  stopReason: StopReason;
  modelId: string;
  usage: Usage;
  costUsd: number;
  attempts: AttemptRecord[];
  /** How many parts the document was split into over every round (0 when it fit at once). */
  parts: number;
}

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

/** Progress of a split job between rounds, kept beside the job. */
interface Stage {
  round: number;
  parts: number;
  language: string;
  usage: Usage;
  costUsd: number;
  attempts: AttemptRecord[];
}

export interface FlowDeps {
  config: Config;
  catalog: ModelCatalog;
  redis: Redis;
  queue: Queue;
  prefix: string;
  breakers?: BreakerRegistry;
  /** Learned per model from real answers; shrinks chunk budgets where our estimate runs low. */
  calibration?: TokenCalibration;
  chain: Omit<ChainInput, 'models' | 'request' | 'api' | 'prepare' | 'signal'>;
}

const add = (a: Usage, b: Usage): Usage => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
});

/** Models in chain order, those whose breaker is open in this worker last: the plan targets a model that answers. */
function planningOrder(
  models: readonly ResolvedModel[],
  breakers: BreakerRegistry | undefined,
): ResolvedModel[] {
  if (!breakers) return [...models];
  const open = (m: ResolvedModel) => breakers.get(m.requestId).rejecting;
  return [...models.filter((m) => !open(m)), ...models.filter(open)];
}

/**
 * Summarizes a job's document, splitting it when it does not fit (map-reduce over BullMQ
 * parent/child jobs):
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
 * @throws WaitingChildrenError while parts run; ChainExhaustedError / InvalidJobError / AllModelsBusyError from the chain.
 */
export async function summarize(
  deps: FlowDeps,
  bull: BullJob<unknown>,
  job: QueuedJob,
  models: ResolvedModel[],
  token: string | undefined,
  signal: AbortSignal | undefined,
): Promise<SummaryOutcome> {
  const key = keysFor(deps.prefix).splitStage(job.id);
  const maxTokens = job.params?.maxTokens ?? deps.config.summarize.maxOutputTokens;
  for (;;) {
    const saved = await deps.redis.get(key);
    const stage: Stage | undefined = saved ? (JSON.parse(saved) as Stage) : undefined;
    let document = job.document ?? '';
    if (stage) {
      const failed = Object.entries(await bull.getFailedChildrenValues());
      if (failed.length > 0) {
        await bull.removeUnprocessedChildren();
        await deps.redis.del(key);
        const [child, reason] = failed[0]!;
        throw new PartFailedError(`part ${child.split(':').pop()} failed: ${reason}`, stage.attempts);
      }
      const values = Object.entries(await bull.getChildrenValues<SummaryOutcome>())
        .map(([childKey, v]) => ({ index: Number(/\.p(\d+)$/.exec(childKey)?.[1] ?? 0), v }))
        .filter((x) => x.v && typeof x.v.text === 'string')
        .sort((a, b) => a.index - b.index);
      document = values.map((x) => x.v.text).join('\n\n');
      for (const { v } of values) {
        stage.usage = add(stage.usage, v.usage);
        stage.costUsd += v.costUsd;
        stage.attempts.push(...v.attempts);
        stage.parts += v.parts;
      }
    }
    const language = stage?.language ?? job.language ?? detectLanguage(document);
    const reduce = stage !== undefined;
    const budget = (m: ResolvedModel) =>
      Math.floor(documentBudget(m.info, maxTokens) / (deps.calibration?.factor(m.requestId) ?? 1));
    const order = planningOrder(models, deps.breakers);
    const target = order[0]!;

    // Attempts of a chain run that ended in re-planning are kept with the job's record.
    let failedAttempts: AttemptRecord[] = [];
    let splitFor: ResolvedModel | undefined = fitsInOneCall(document, target.family, budget(target))
      ? undefined
      : target;
    if (!splitFor) {
      const sent = new Map<string, { family: ResolvedModel['family']; text: string }>();
      try {
        const out = await runChain({
          ...deps.chain,
          models,
          api: job.api,
          request: { messages: [] },
          ...(signal ? { signal } : {}),
          prepare: (m) => {
            if (!fitsInOneCall(document, m.family, budget(m))) return 'skip';
            const request = buildSummaryRequest({
              document,
              family: m.family,
              language,
              reduce,
              params: { ...job.params, maxTokens },
              ...(job.native ? { native: job.native } : {}),
              config: deps.config,
            });
            sent.set(m.requestId, {
              family: m.family,
              text: `${request.system ?? ''}\n${request.messages.map((x) => x.content).join('\n')}`,
            });
            return request;
          },
        });
        const served = sent.get(out.modelId);
        if (served && deps.calibration) {
          deps.calibration.observe(
            out.modelId,
            estimateTokens(served.text, served.family),
            out.reply.usage.inputTokens,
          );
        }
        await deps.redis.del(key);
        return finish(deps.catalog, models, out.reply, out.modelId, out.attempts, stage);
      } catch (e) {
        // Only smaller windows were left: plan again for the largest of the skipped models.
        if (!(e instanceof ChainExhaustedError)) throw e;
        const skipped = largestSkipped(e.attempts, models);
        if (!skipped) throw e;
        splitFor = skipped;
        failedAttempts = e.attempts;
      }
    }
    const round = (stage?.round ?? 0) + 1;
    const chunks = chunkDocument(document, splitFor.family, budget(splitFor));
    const next: Stage = {
      round,
      parts: stage?.parts ?? 0,
      language,
      usage: stage?.usage ?? { inputTokens: 0, outputTokens: 0 },
      costUsd: stage?.costUsd ?? 0,
      attempts: [...(stage?.attempts ?? []), ...failedAttempts],
    };
    next.parts += reduce ? 0 : chunks.length;
    await deps.redis.set(key, JSON.stringify(next), 'EX', 7 * 24 * 3600);
    await deps.queue.addBulk(
      chunks.map((chunk, index) => {
        const id = `${job.id}.r${round}.p${index}`;
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
          data,
          opts: {
            jobId: id,
            attempts: bull.opts.attempts ?? 1,
            backoff: bull.opts.backoff ?? { type: 'exponential', delay: 1000 },
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

/** A model the chain skipped for size, when no model failed for another reason than size or being busy. */
function largestSkipped(
  attempts: readonly AttemptRecord[],
  models: readonly ResolvedModel[],
): ResolvedModel | undefined {
  const skippedIds = new Set(attempts.filter((a) => a.outcome === 'context_overflow').map((a) => a.modelId));
  const candidates = models.filter((m) => skippedIds.has(m.requestId));
  return candidates.sort((a, b) => b.info.contextWindow - a.info.contextWindow)[0];
}

function finish(
  catalog: ModelCatalog,
  models: readonly ResolvedModel[],
  reply: ModelReply,
  modelId: string,
  attempts: AttemptRecord[],
  stage: Stage | undefined,
): SummaryOutcome {
  const served = models.find((m) => m.requestId === modelId) ?? catalog.resolve(modelId);
  const cost = served ? costUsd(served.info, reply.usage) : 0;
  return {
    text: reply.text,
    stopReason: reply.stopReason,
    modelId,
    usage: stage ? add(stage.usage, reply.usage) : reply.usage,
    costUsd: (stage?.costUsd ?? 0) + cost,
    attempts: [...(stage?.attempts ?? []), ...attempts],
    parts: stage?.parts ?? 0,
  };
}
