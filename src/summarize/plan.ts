import type { ModelCatalog, ResolvedModel } from '../models/catalog.js';
import { costUsd } from '../models/info.js';
import type { ModelReply, StopReason, Usage } from '../models/request.js';
import type { AttemptRecord } from '../resilience/attempt.js';
import { documentBudget, fitsInOneCall } from './chunk.js';

/**
 * The decisions of a summary, with no I/O: does the document fit one call, for which model is
 * it split when it does not, which model is it re-planned for when the chain falls back to
 * smaller windows, and how the partial results of a split add up. The queue runs the rounds
 * (`queue/split.ts`); see `docs/architecture.md#long-documents`.
 */

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
  /**
   * Set when its parts were summarized offline (batch inference): what every call would have
   * cost on demand. Then `costUsd` is the parts at the batch price plus the online merge.
   */
  onlineCostUsd?: number;
}

/** Progress of a split document between rounds: what its parts have cost so far. */
export interface SummaryStage {
  /** Rounds of parts started: 1 for the first split, 2 for a merge that was split again, ... */
  round: number;
  parts: number;
  language: string;
  usage: Usage;
  costUsd: number;
  attempts: AttemptRecord[];
  /**
   * The next document, when the parts were not BullMQ children: the partial summaries of a
   * document whose chunks were summarized offline, joined, for the merge step to summarize.
   */
  document?: string;
  /** As {@link SummaryOutcome.onlineCostUsd}: set when the parts ran offline. */
  onlineCostUsd?: number;
}

const addUsage = (a: Usage, b: Usage): Usage => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
});

/**
 * Document tokens one summarization call to `model` may spend: its {@link documentBudget},
 * divided by the model's calibration factor (≥ 1) where our estimate has run low.
 */
export function chunkBudget(model: ResolvedModel, maxOutputTokens: number, factor = 1): number {
  return Math.floor(documentBudget(model.info, maxOutputTokens) / factor);
}

/** True when the whole document fits one call to `model` within `budget` tokens. */
export function fitsModel(document: string, model: ResolvedModel, budget: number): boolean {
  return fitsInOneCall(document, model.family, budget);
}

/**
 * Models in chain order, those whose breaker refuses calls in this worker last: the plan
 * targets a model that answers.
 */
export function planningOrder(
  models: readonly ResolvedModel[],
  isOpen?: (model: ResolvedModel) => boolean,
): ResolvedModel[] {
  if (!isOpen) return [...models];
  return [...models.filter((m) => !isOpen(m)), ...models.filter(isOpen)];
}

/**
 * The model to split the document for, or undefined when it fits one call to the first model
 * in planning order (then the chain runs, skipping models it does not fit).
 */
export function splitTarget(
  document: string,
  order: readonly ResolvedModel[],
  budget: (model: ResolvedModel) => number,
): ResolvedModel | undefined {
  const target = order[0];
  if (!target) return undefined;
  return fitsModel(document, target, budget(target)) ? undefined : target;
}

/**
 * The model to re-plan for after the chain failed: the largest window among the models it
 * skipped for size (`context_overflow`), or undefined when it skipped none.
 */
export function replanTarget(
  attempts: readonly AttemptRecord[],
  models: readonly ResolvedModel[],
): ResolvedModel | undefined {
  const skippedIds = new Set(attempts.filter((a) => a.outcome === 'context_overflow').map((a) => a.modelId));
  const candidates = models.filter((m) => skippedIds.has(m.requestId));
  return candidates.sort((a, b) => b.info.contextWindow - a.info.contextWindow)[0];
}

/**
 * Folds the outcomes of a round's parts, in part order, into the stage. A stage that carries its
 * document (its parts were read back offline, not run as children) has no parts to fold.
 * @returns the partial summaries joined by blank lines (the next document) and the new stage.
 */
export function mergeParts(
  stage: SummaryStage,
  parts: readonly SummaryOutcome[],
): { document: string; stage: SummaryStage } {
  const { document: _merged, ...rest } = stage;
  const next: SummaryStage = { ...rest, attempts: [...stage.attempts] };
  for (const part of parts) {
    next.usage = addUsage(next.usage, part.usage);
    next.costUsd += part.costUsd;
    if (next.onlineCostUsd !== undefined) next.onlineCostUsd += part.onlineCostUsd ?? part.costUsd;
    next.attempts.push(...part.attempts);
    next.parts += part.parts;
  }
  const document = stage.document ?? parts.map((p) => p.text).join('\n\n');
  return { document, stage: next };
}

/**
 * The stage saved before a round of `chunks` parts starts. Only the first round counts its
 * chunks as parts of the document; later rounds merge summaries of parts already counted.
 * Attempts of a chain run that ended in re-planning are kept with the document's record.
 */
export function nextStage(
  stage: SummaryStage | undefined,
  round: { language: string; chunks: number; failedAttempts: readonly AttemptRecord[] },
): SummaryStage {
  return {
    round: (stage?.round ?? 0) + 1,
    parts: (stage?.parts ?? 0) + (stage ? 0 : round.chunks),
    language: round.language,
    usage: stage?.usage ?? { inputTokens: 0, outputTokens: 0 },
    costUsd: stage?.costUsd ?? 0,
    attempts: [...(stage?.attempts ?? []), ...round.failedAttempts],
    ...(stage?.onlineCostUsd !== undefined ? { onlineCostUsd: stage.onlineCostUsd } : {}),
  };
}

/** The model that answered, for its prices: one of the job's models, else the catalog's entry. */
export function servedModel(
  catalog: ModelCatalog,
  models: readonly ResolvedModel[],
  modelId: string,
): ResolvedModel | undefined {
  return models.find((m) => m.requestId === modelId) ?? catalog.resolve(modelId);
}

/**
 * The outcome of a chain run that answered, with what earlier rounds cost added.
 * @param served the model that answered, for its prices; undefined costs nothing.
 */
export function chainOutcome(
  served: ResolvedModel | undefined,
  answer: { reply: ModelReply; modelId: string; attempts: readonly AttemptRecord[] },
  stage?: SummaryStage,
): SummaryOutcome {
  const { reply } = answer;
  const cost = served ? costUsd(served.info, reply.usage) : 0;
  return {
    text: reply.text,
    stopReason: reply.stopReason,
    modelId: answer.modelId,
    usage: stage ? addUsage(stage.usage, reply.usage) : reply.usage,
    costUsd: (stage?.costUsd ?? 0) + cost,
    attempts: [...(stage?.attempts ?? []), ...answer.attempts],
    parts: stage?.parts ?? 0,
    ...(stage?.onlineCostUsd !== undefined ? { onlineCostUsd: stage.onlineCostUsd + cost } : {}),
  };
}
