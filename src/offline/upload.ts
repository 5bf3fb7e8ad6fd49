import { type LaneContext, PAGE, readJobs } from './context.js';
import { inputLine, offlineCall } from './records.js';
import type { OfflineState, PartState } from './state.js';

/**
 * Writes one part's input file and uploads it: a JSONL line `{recordId, modelInput}` per job,
 * in the part's record order, built again from the jobs' payloads (so the plan keeps ids, not
 * bodies). The same part always gives the same file, so a crash before the upload was recorded
 * uploads it again unchanged. A job gone meanwhile leaves its record out; collecting finds it
 * missing and has nothing to send online.
 * @returns the bytes uploaded
 */
export async function uploadPart(ctx: LaneContext, state: OfflineState, part: PartState): Promise<number> {
  const model = ctx.catalog.resolve(part.modelId);
  if (!model) throw new Error(`model ${part.modelId} of part ${part.part} is not in the catalog`);
  const ids = await state.ids(part.part);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; i < ids.length; i += PAGE) {
    const page = ids.slice(i, i + PAGE);
    const jobs = await readJobs(ctx.redis, ctx.keys, page);
    page.forEach((id, j) => {
      const job = jobs.get(id);
      if (!job) return;
      const call = offlineCall(job, model, ctx.config);
      if ('reason' in call) return;
      const line = Buffer.from(inputLine(i + j, call.modelInput));
      chunks.push(line);
      bytes += line.length;
    });
  }
  await ctx.aws.put(part.inputKey, Buffer.concat(chunks, bytes));
  return bytes;
}
