import { z } from 'zod';
import type { ResolvedModel } from '../models/catalog.js';
import { batchCostUsd, costUsd } from '../models/info.js';
import { STOP_REASONS } from '../models/request.js';
import type { QueuedJob } from '../queue/jobs.js';
import type { SummaryStage } from '../summarize/plan.js';
import { detectLanguage } from '../summarize/prompt.js';
import type { LaneContext } from './context.js';
import { sendOnline } from './hand-back.js';
import type { RecordReply } from './records.js';

/**
 * The map step of a summary in parts, run offline: each chunk's summary read back from an
 * invocation job is kept in Redis until the document's last chunk is back; then the partial
 * summaries become the document's split stage (as if its parts had run online as BullMQ
 * children) and the job is sent online, where the merge step runs down its chain
 * (`queue/split.ts`). A chunk that failed sends its document online whole.
 */

/** One chunk's summary as kept between its part's read-back and the merge. */
const ChunkSummarySchema = z.object({
  text: z.string(),
  stopReason: z.enum(STOP_REASONS),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }),
  costUsd: z.number(),
  onlineCostUsd: z.number(),
});
type ChunkSummary = z.infer<typeof ChunkSummarySchema>;

/** A chunk record that came back with an answer. */
export interface AnsweredChunk {
  jobId: string;
  index: number;
  count: number;
  reply: RecordReply;
}

/**
 * Keeps the answered chunks, and starts the merge of every document whose chunks are all back.
 * Only a document still delayed for the lane is the lane's: one sent online (a chunk failed,
 * its deadline came) or already merged has its chunks dropped instead. Each step may be
 * repeated after a crash: a chunk kept twice is one field, a stage already set is not
 * replaced, and a job no longer delayed is not promoted again.
 * @param jobs the payloads of the chunks' jobs; a job missing here (finished online) is skipped
 * @param onNew called once per chunk kept for the first time (the metrics)
 */
export async function keepChunks(
  ctx: LaneContext,
  batchId: string,
  model: ResolvedModel,
  chunks: readonly AnsweredChunk[],
  jobs: ReadonlyMap<string, QueuedJob>,
  onNew: (reply: RecordReply, cost: { costUsd: number; onlineCostUsd: number }) => void,
): Promise<void> {
  if (chunks.length === 0) return;
  const counts = new Map(chunks.map((c) => [c.jobId, c.count]));
  const ids = [...counts.keys()];
  const check = ctx.redis.pipeline();
  for (const id of ids) check.zscore(ctx.keys.bullDelayed, id);
  const delayed = ((await check.exec()) ?? []).map((r) => r[1] !== null);
  const waiting = new Set(ids.filter((id, i) => delayed[i] && jobs.has(id)));
  await dropChunks(
    ctx,
    batchId,
    ids.filter((id) => !waiting.has(id)),
  );

  const mine = chunks.filter((c) => waiting.has(c.jobId));
  const pipe = ctx.redis.pipeline();
  const costs = mine.map(({ jobId, index, reply }) => {
    const partial: ChunkSummary = {
      text: reply.text,
      stopReason: reply.stopReason,
      usage: reply.usage,
      costUsd: batchCostUsd(model.info, reply.usage),
      onlineCostUsd: costUsd(model.info, reply.usage),
    };
    const key = ctx.keys.offlineChunks(batchId, jobId);
    pipe.hset(key, String(index), JSON.stringify(partial));
    pipe.expire(key, ctx.config.resultTtlSeconds);
    return { costUsd: partial.costUsd, onlineCostUsd: partial.onlineCostUsd };
  });
  const replies = (await pipe.exec()) ?? [];
  mine.forEach((c, i) => {
    if (replies[i * 2]?.[1] === 1) onNew(c.reply, costs[i]!);
  });
  for (const id of waiting) await mergeWhenAllBack(ctx, batchId, model, jobs.get(id)!, counts.get(id)!);
}

/** When every chunk of the job's document is back, sets its stage and sends it online to merge. */
async function mergeWhenAllBack(
  ctx: LaneContext,
  batchId: string,
  model: ResolvedModel,
  job: QueuedJob,
  count: number,
): Promise<void> {
  const held = await ctx.redis.hgetall(ctx.keys.offlineChunks(batchId, job.id));
  const partials: ChunkSummary[] = [];
  for (let i = 0; i < count; i++) {
    const json = held[String(i)];
    if (json === undefined) return;
    partials.push(ChunkSummarySchema.parse(JSON.parse(json)));
  }
  const sum = (f: (p: ChunkSummary) => number) => partials.reduce((n, p) => n + f(p), 0);
  const stage: SummaryStage = {
    round: 1,
    parts: count,
    language: job.language ?? detectLanguage(job.document ?? ''),
    usage: { inputTokens: sum((p) => p.usage.inputTokens), outputTokens: sum((p) => p.usage.outputTokens) },
    costUsd: sum((p) => p.costUsd),
    onlineCostUsd: sum((p) => p.onlineCostUsd),
    attempts: partials.map(() => ({ modelId: model.requestId, outcome: 'ok', latencyMs: 0 })),
    document: partials.map((p) => p.text).join('\n\n'),
  };
  // NX: a job that reached its deadline meanwhile and split online keeps its own stage.
  await ctx.redis.set(
    ctx.keys.splitStage(job.id),
    JSON.stringify(stage),
    'EX',
    ctx.config.resultTtlSeconds,
    'NX',
  );
  await sendOnline(ctx.jobs, [job.id]);
  await dropChunks(ctx, batchId, [job.id]);
}

/** Forgets the chunks kept for documents that go online whole. */
export async function dropChunks(
  ctx: LaneContext,
  batchId: string,
  jobIds: readonly string[],
): Promise<void> {
  if (jobIds.length === 0) return;
  await ctx.redis.del(...jobIds.map((id) => ctx.keys.offlineChunks(batchId, id)));
}
