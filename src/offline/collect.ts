import type { ResolvedModel } from '../models/catalog.js';
import { batchCostUsd, costUsd } from '../models/info.js';
import type { ResultRecordInput } from '../results/record.js';
import { type AnsweredChunk, dropChunks, keepChunks } from './chunks.js';
import { type LaneContext, readJobs } from './context.js';
import { removeJobs, sendOnline } from './hand-back.js';
import { jobIdsOf, outputKeys, parseEntry, recordIndex } from './names.js';
import { ManifestSchema, OutputLineSchema, type RecordReply, replyOf } from './records.js';
import { hasOutput, type OfflineState, type PartState } from './state.js';

/** Output lines handled per round of saves, removals and promotions. */
const LINES_PER_ROUND = 200;

/** How a part's records ended. */
export interface Collected {
  /** Results written from the output file. */
  offline: number;
  /** Calls sent online: record errors, records missing from the output, or the whole job. */
  online: number;
  /** Bedrock's own counts, when the job wrote a manifest. */
  manifest?: ReturnType<typeof ManifestSchema.parse>;
}

/** The result record of one answered record: lane `offline`, priced at batch inference. */
function offlineResult(
  job: { id: string; batchId?: string | undefined; enqueuedAt: string },
  model: ResolvedModel,
  reply: RecordReply,
  times: { startedAt: string; finishedAt: string },
): ResultRecordInput {
  return {
    id: job.id,
    batchId: job.batchId ?? null,
    status: 'completed',
    text: reply.text,
    stopReason: reply.stopReason,
    modelId: model.requestId,
    attempts: [{ modelId: model.requestId, outcome: 'ok', latencyMs: 0 }],
    usage: reply.usage,
    costUsd: batchCostUsd(model.info, reply.usage),
    onlineCostUsd: costUsd(model.info, reply.usage),
    lane: 'offline',
    enqueuedAt: job.enqueuedAt,
    ...times,
  };
}

/**
 * Reads back a finished part: each answered record becomes its job's result (exactly once,
 * through the result store) and its BullMQ job is removed, or, for a chunk of a document in
 * parts, is kept until the document's last chunk is back and its merge runs online
 * (`chunks.ts`). A record that came back with an `error`, a refused or filtered answer, a
 * record missing from the output, and every record of a job that failed, stopped or expired
 * are sent online, down their whole chain. Every step
 * may be repeated after a crash: a second save writes nothing and a job no longer delayed is
 * not promoted again.
 */
export async function collectPart(
  ctx: LaneContext,
  state: OfflineState,
  part: PartState,
): Promise<Collected> {
  const model = ctx.catalog.resolve(part.modelId);
  if (!model) throw new Error(`model ${part.modelId} of part ${part.part} is not in the catalog`);
  const ids = await state.ids(part.part);
  const seen = new Uint8Array(ids.length);
  const out: Collected = { offline: 0, online: 0 };
  const startedAt = part.submittedAt ?? new Date(ctx.now()).toISOString();
  const log = ctx.logger.child({ batchId: state.batchId, part: part.part, model: part.modelId });

  const lines =
    hasOutput(part.status) && part.jobArn
      ? await ctx.aws.lines(outputKeys(part, part.jobArn).records)
      : undefined;
  if (hasOutput(part.status) && !lines)
    log.warn('the invocation job wrote no output file; its calls run online');

  let answered: { id: string; reply: RecordReply }[] = [];
  let failed: string[] = [];
  let unreadable = 0;
  const report = (reply: RecordReply, cost: { costUsd: number; onlineCostUsd: number }) =>
    ctx.observer?.offlineResult({ modelId: model.requestId, usage: reply.usage, ...cost });
  const flush = async () => {
    if (answered.length > 0) {
      const jobs = await readJobs(ctx.redis, ctx.keys, jobIdsOf(answered.map((a) => a.id)));
      const finishedAt = new Date(ctx.now()).toISOString();
      const saved: string[] = [];
      const chunks: AnsweredChunk[] = [];
      await Promise.all(
        answered.map(async ({ id, reply }) => {
          const { jobId, chunk } = parseEntry(id);
          if (chunk) {
            chunks.push({ jobId, ...chunk, reply });
            return;
          }
          const job = jobs.get(jobId);
          if (!job) return; // saved and removed by an earlier run of this step
          const record = offlineResult(job, model, reply, { startedAt, finishedAt });
          if (await ctx.store.save(record))
            report(reply, { costUsd: record.costUsd, onlineCostUsd: record.onlineCostUsd ?? record.costUsd });
          saved.push(id);
        }),
      );
      await removeJobs(ctx.jobs, saved);
      await keepChunks(ctx, state.batchId, model, chunks, jobs, report);
      out.offline += answered.length;
    }
    if (failed.length > 0) {
      const jobIds = jobIdsOf(failed);
      // A document with a chunk that failed is summarized online whole.
      await dropChunks(ctx, state.batchId, jobIdsOf(failed.filter((e) => parseEntry(e).chunk)));
      await sendOnline(ctx.jobs, jobIds);
      out.online += failed.length;
    }
    answered = [];
    failed = [];
  };

  for await (const text of lines ?? []) {
    if (text.trim() === '') continue;
    let parsed: ReturnType<typeof OutputLineSchema.safeParse>;
    try {
      parsed = OutputLineSchema.safeParse(JSON.parse(text));
    } catch {
      unreadable++;
      continue;
    }
    const index = parsed.success ? recordIndex(parsed.data.recordId) : undefined;
    const id = index === undefined ? undefined : ids[index];
    if (!parsed.success || index === undefined || id === undefined || seen[index]) {
      unreadable++;
      continue;
    }
    seen[index] = 1;
    const { modelOutput, error, modelInput } = parsed.data;
    let reply: RecordReply | undefined;
    if (modelOutput && !error) {
      try {
        reply = replyOf({ model, type: part.type }, modelOutput, modelInput);
      } catch {
        reply = undefined;
      }
    }
    // A filtered answer is not a summary: online, the chain moves on to its next model.
    if (reply && reply.stopReason !== 'content_filtered') answered.push({ id, reply });
    else failed.push(id);
    if (answered.length + failed.length >= LINES_PER_ROUND) await flush();
  }
  await flush();
  failed = ids.filter((_, i) => !seen[i]);
  await flush();
  if (unreadable > 0)
    log.warn({ lines: unreadable }, 'output lines that name no record of this part were skipped');

  if (part.jobArn && hasOutput(part.status)) {
    const manifest = await ctx.aws.text(outputKeys(part, part.jobArn).manifest);
    try {
      const parsed = manifest === undefined ? undefined : ManifestSchema.safeParse(JSON.parse(manifest));
      if (parsed?.success) out.manifest = parsed.data;
    } catch {
      log.warn('the manifest is not JSON; counts are ours alone');
    }
  }
  log.info(
    { status: part.status, offline: out.offline, online: out.online, manifest: out.manifest },
    'offline part collected',
  );
  return out;
}
