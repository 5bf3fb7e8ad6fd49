import { type LaneContext, PAGE, readJobs } from './context.js';
import { jobIdsOf, parseEntry } from './names.js';
import { inputLine, type OfflineCall, offlineCalls } from './records.js';
import type { OfflineState, PartState } from './state.js';

/**
 * Writes one part's input file and uploads it: a JSONL line `{recordId, modelInput}` per
 * record (a job's call, or one chunk of a document summarized in parts), in record order, built again from the jobs' payloads (so the plan keeps ids, not
 * bodies). The same part always gives the same file, so a crash before the upload was recorded
 * uploads it again unchanged. A job gone meanwhile leaves its record out; collecting finds it
 * missing and has nothing to send online.
 * @returns the bytes uploaded
 */
export async function uploadPart(ctx: LaneContext, state: OfflineState, part: PartState): Promise<number> {
  const model = ctx.catalog.resolve(part.modelId);
  if (!model) throw new Error(`model ${part.modelId} of part ${part.part} is not in the catalog`);
  const entries = await state.ids(part.part);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; i < entries.length; i += PAGE) {
    const page = entries.slice(i, i + PAGE);
    const jobs = await readJobs(ctx.redis, ctx.keys, jobIdsOf(page));
    // A document's chunks are neighbours: cut it once for all of them.
    const calls = new Map<string, OfflineCall[]>();
    page.forEach((entry, j) => {
      const { jobId, chunk } = parseEntry(entry);
      const job = jobs.get(jobId);
      if (!job) return;
      const all = calls.get(jobId) ?? offlineCalls(job, model, ctx.config);
      calls.set(jobId, all);
      const call = all[chunk?.index ?? 0];
      if (!call || all.length !== (chunk?.count ?? 1)) return;
      const line = Buffer.from(inputLine(i + j, call.modelInput));
      chunks.push(line);
      bytes += line.length;
    });
  }
  await ctx.aws.put(part.inputKey, Buffer.concat(chunks, bytes));
  return bytes;
}
