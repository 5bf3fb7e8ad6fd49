import { collectPart } from './collect.js';
import type { LaneContext } from './context.js';
import { isOfflineLaneError } from './errors.js';
import { sendOnline } from './hand-back.js';
import { clientRequestToken, invocationJobName, jobIdsOf, s3Uri } from './names.js';
import { planBatch, waitingOfflineIds } from './plan-batch.js';
import { isTerminal, type LaneState, type OfflineState, type PartState } from './state.js';
import { uploadPart } from './upload.js';

/** Where a batch's offline lane stands after one step. */
export type StepOutcome = { status: 'done'; parts: number } | { status: 'following'; pending: number };

/**
 * One look at a part: upload its file, create its invocation job, ask how it is doing, read it
 * back once it has ended. Each change is saved before the next, so the look can stop anywhere
 * (a crash) and the next one goes on from there.
 */
async function advance(
  ctx: LaneContext,
  state: OfflineState,
  lane: LaneState,
  p: PartState,
): Promise<PartState> {
  const part = { ...p };
  const log = ctx.logger.child({ batchId: state.batchId, part: part.part, model: part.modelId });
  const save = () => state.savePart(part);
  const bucket = ctx.config.offline.bucket ?? '';
  if (ctx.now() >= lane.deadlineMs && !isTerminal(part.status)) {
    // Its jobs' delays have ended: they run online now. The invocation job would only cost.
    if (part.jobArn)
      await ctx.aws.stop(part.jobArn).catch((err: unknown) => log.warn({ err }, 'could not stop'));
    Object.assign(part, { collected: true, message: 'the deadline passed; its calls ran online' });
    await save();
    return part;
  }
  if (!part.uploaded) {
    const bytes = await uploadPart(ctx, state, part);
    part.uploaded = true;
    await save();
    log.info({ bytes, records: part.records }, 'offline input uploaded');
  }
  if (!part.jobArn && part.status !== 'NotCreated') {
    try {
      part.jobArn = await ctx.aws.create({
        jobName: invocationJobName(state.batchId, part.part),
        clientRequestToken: clientRequestToken(state.batchId, part.modelId, part.part),
        modelId: part.modelId,
        type: part.type,
        inputUri: s3Uri(bucket, part.inputKey),
        outputUri: s3Uri(bucket, part.outputPrefix),
      });
      part.status = 'Submitted';
      // Our clock, not Bedrock's submitTime: results' startedAt and finishedAt then share one clock.
      part.submittedAt = new Date(ctx.now()).toISOString();
      await save();
      log.info({ jobArn: part.jobArn }, 'model invocation job created');
    } catch (e) {
      if (!isOfflineLaneError(e) || e.kind !== 'refused') {
        log.warn({ err: e }, 'could not create the model invocation job; trying again at the next look');
        return part;
      }
      log.warn({ reason: e.message }, 'model invocation job refused; its calls run online');
      Object.assign(part, { status: 'NotCreated', message: e.message });
      await save();
    }
  }
  if (part.jobArn && !isTerminal(part.status)) {
    try {
      const view = await ctx.aws.get(part.jobArn);
      const status = view.status as PartState['status'];
      if (status !== part.status || view.message !== part.message) {
        part.status = status;
        if (view.message) part.message = view.message;
        await save();
        log.info({ status, message: view.message }, 'model invocation job status');
      }
    } catch (e) {
      if (!isOfflineLaneError(e) || e.kind !== 'refused') {
        log.warn({ err: e }, 'could not read the model invocation job; trying again at the next look');
        return part;
      }
      Object.assign(part, { status: 'Failed', message: e.message });
      await save();
    }
  }
  if (part.status === 'NotCreated') {
    part.online = await sendOnline(ctx.jobs, jobIdsOf(await state.ids(part.part)));
    part.collected = true;
    await save();
  } else if (isTerminal(part.status)) {
    const got = await collectPart(ctx, state, part);
    Object.assign(part, { offline: got.offline, online: got.online, collected: true });
    await save();
  }
  return part;
}

/**
 * One run of a batch's coordinator: plans the lane the first time, then advances every part
 * not yet collected. When all are, offline-lane jobs of the batch that came after the plan
 * (another enqueue call with the batch's id) open another round, planned at the next step like
 * the first; with none left, the lane is done. A lane already done takes newcomers the same way
 * when the batch is sealed again.
 */
export async function stepLane(ctx: LaneContext, state: OfflineState): Promise<StepOutcome> {
  let lane = await state.load();
  if (!lane) return { status: 'done', parts: 0 };
  if (lane.doneAt !== undefined) {
    if (!(await newcomers(ctx, state))) return { status: 'done', parts: lane.parts.length };
    lane = (await state.load()) ?? lane;
  }
  if (!lane.planned) {
    await planBatch(ctx, state, lane);
    lane = (await state.load()) ?? lane;
  }
  let pending = 0;
  for (const p of lane.parts) {
    if (p.collected) continue;
    const part = await advance(ctx, state, lane, p);
    if (!part.collected) pending++;
  }
  if (pending > 0) return { status: 'following', pending };
  const late = await newcomers(ctx, state);
  if (late > 0) return { status: 'following', pending: late };
  await state.done(ctx.now());
  return { status: 'done', parts: lane.parts.length };
}

/**
 * Offline-lane jobs of the batch still waiting though every part is collected: they came after
 * the plan. Opens a round for them.
 * @returns how many there are
 */
async function newcomers(ctx: LaneContext, state: OfflineState): Promise<number> {
  const ids = await waitingOfflineIds(ctx, state.batchId);
  if (ids.length === 0) return 0;
  ctx.logger.info(
    { batchId: state.batchId, jobs: ids.length },
    'jobs added after the plan: planning another round',
  );
  await state.nextRound();
  return ids.length;
}
