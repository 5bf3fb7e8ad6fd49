import { minRecordsFor } from '../offline-settings.js';
import { batchIdPages } from '../queue/batch-members.js';
import { validateJobModels } from '../queue/jobs.js';
import { HOUR } from '../units.js';
import { type LaneContext, PAGE, readJobs } from './context.js';
import { sendOnline } from './hand-back.js';
import { chunkEntry, jobIdsOf, partKeys } from './names.js';
import { type PlanEntry, planParts } from './plan.js';
import { inputLine, offlineCalls } from './records.js';
import type { LaneState, OfflineState, PartState } from './state.js';

/** A group's key: one model and one invocation type per invocation job. */
const groupOf = (modelId: string, type: string): string => `${type} ${modelId}`;
const parseGroup = (group: string) => {
  const at = group.indexOf(' ');
  return { type: group.slice(0, at) as PartState['type'], modelId: group.slice(at + 1) };
};

/**
 * The ids of a batch's jobs that wait for its offline lane: delayed in BullMQ, enqueued for the
 * offline or auto lane, and without a result. Read a page at a time from the batch's id set.
 */
export async function waitingOfflineIds(
  ctx: Pick<LaneContext, 'redis' | 'keys'>,
  batchId: string,
): Promise<string[]> {
  const { redis, keys } = ctx;
  const out: string[] = [];
  for await (const ids of batchIdPages(redis, keys, batchId)) {
    const pipe = redis.pipeline();
    for (const id of ids) {
      pipe.zscore(keys.bullDelayed, id);
      pipe.exists(keys.result(id));
    }
    const replies = (await pipe.exec()) ?? [];
    const delayed = ids.filter((_, i) => replies[i * 2]?.[1] !== null && replies[i * 2 + 1]?.[1] === 0);
    const jobs = await readJobs(redis, keys, delayed);
    for (const [id, job] of jobs) if (job.lane !== undefined) out.push(id);
  }
  return out.sort();
}

/**
 * The model a job's calls go offline to: the first of its chain that takes batch inference (the
 * catalog's `batchInference`) and that the worker's preflight did not find unusable. Its other
 * models serve it online if the offline call fails.
 */
function offlineModel(chain: readonly string[], ctx: Pick<LaneContext, 'catalog' | 'unusable'>) {
  for (const id of chain) {
    const model = ctx.catalog.resolve(id);
    if (model?.info.batchInference && !ctx.unusable?.has(model.requestId)) return model;
  }
  return undefined;
}

/**
 * Plans a sealed batch's offline lane: each waiting job's call on the first model of its chain
 * that takes batch inference
 * (or, for a document that needs a summary in parts, one call per chunk) is grouped by model
 * and invocation type, and groups are cut into parts within Bedrock's limits (`plan.ts`).
 * Calls that cannot go offline are sent online first: a group below the model's minimum, a
 * record larger than a file, the other chunks of a document with a chunk online, or, for
 * `auto`, every call when the deadline is nearer than an invocation job may take. Then the plan is recorded in one
 * transaction; nothing is uploaded before that.
 * @returns the number of calls sent online
 */
export async function planBatch(ctx: LaneContext, state: OfflineState, lane: LaneState): Promise<number> {
  const { config, catalog, keys, redis } = ctx;
  const settings = config.offline;
  const ids = await waitingOfflineIds(ctx, state.batchId);
  const online: { id: string; reason: string }[] = [];
  const entries: PlanEntry[] = [];
  const tooLate = lane.lane === 'auto' && lane.deadlineMs - ctx.now() < settings.timeoutHours * HOUR;
  for (let i = 0; i < ids.length; i += PAGE) {
    const page = ids.slice(i, i + PAGE);
    const jobs = await readJobs(redis, keys, page);
    for (const [id, job] of jobs) {
      if (tooLate) {
        online.push({ id, reason: 'the deadline is nearer than an invocation job may take' });
        continue;
      }
      const model = offlineModel(validateJobModels(job, catalog, config), ctx);
      if (!model) {
        online.push({ id, reason: 'no model of its chain takes batch inference' });
        continue;
      }
      const calls = offlineCalls(job, model, config);
      calls.forEach((call, k) => {
        // Record ids have a fixed width, so a line's size does not depend on its place in the file.
        const bytes = Buffer.byteLength(inputLine(0, call.modelInput));
        const group = groupOf(model.requestId, call.type);
        if (calls.length === 1) entries.push({ id, group, bytes });
        else entries.push({ id: chunkEntry(id, k, calls.length), group, bytes, unit: id });
      });
    }
  }
  const plan = planParts(entries, (group) => ({
    minRecords: minRecordsFor(settings, parseGroup(group).modelId),
    maxRecords: settings.maxRecordsPerJob,
    maxBytes: settings.maxFileBytes,
  }));
  online.push(...plan.online);
  // Online first: a crash before the plan is saved plans again without them.
  const sent = await sendOnline(ctx.jobs, jobIdsOf(online.map((o) => o.id)));
  const reasons = new Map<string, number>();
  for (const o of online) reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1);
  // A later round's parts are numbered after the earlier ones: new files, new jobs, new tokens.
  const first = lane.parts.length;
  await state.savePlan(
    plan.parts.map((p, i) => {
      const part = first + i;
      const { modelId, type } = parseGroup(p.group);
      return {
        ids: p.ids,
        state: {
          part,
          modelId,
          type,
          records: p.ids.length,
          ...partKeys(settings.prefix, state.batchId, part),
          uploaded: false,
          collected: false,
          offline: 0,
          online: 0,
        },
      };
    }),
    first + plan.parts.length,
  );
  ctx.logger.info(
    {
      batchId: state.batchId,
      parts: plan.parts.map((p) => ({ group: p.group, records: p.ids.length, bytes: p.bytes })),
      online: Object.fromEntries(reasons),
      promoted: sent,
    },
    'offline lane planned',
  );
  return online.length;
}

/**
 * Sends every waiting offline-lane job of a batch online: the lane is not configured.
 * @returns how many were promoted
 */
export async function sendAllOnline(
  ctx: Pick<LaneContext, 'redis' | 'keys' | 'jobs'>,
  batchId: string,
): Promise<number> {
  return sendOnline(ctx.jobs, await waitingOfflineIds(ctx, batchId));
}
