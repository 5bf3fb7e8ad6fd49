import { randomUUID } from 'node:crypto';
import { type JobContext, parseJob, type QueuedJob } from './jobs.js';
import { JobValidationError } from './validation.js';

/** A validated job of an enqueue call, with its id, ready to be claimed and added. */
export interface PreparedJob {
  id: string;
  job: QueuedJob;
  /** Its text, roughly: slices of a call are cut by it so a round trip stays bounded. */
  bytes: number;
}

/**
 * Validates one job of a call and gives it its id: its own, or a new uuid.
 * @throws JobValidationError naming `path` and the field (`jobs[7].messages: …`).
 */
export function prepareJob(
  input: unknown,
  path: string,
  enqueuedAt: string,
  ctx: Omit<JobContext, 'path'>,
): PreparedJob {
  const job = parseJob(input, { ...ctx, path });
  const id = job.id ?? randomUUID();
  const bytes =
    (job.document?.length ?? 0) +
    (job.system?.length ?? 0) +
    (job.messages ?? []).reduce((n, m) => n + m.content.length, 0);
  return { id, job: { ...job, id, enqueuedAt }, bytes };
}

/**
 * Puts every job of a call in one batch: `requested`, else the batch the jobs name, else a new
 * uuid. A job naming another batch refuses the call.
 * @returns the batch id, now set on every job
 * @throws JobValidationError naming `jobs[i].batchId`.
 */
export function assignBatch(prepared: readonly PreparedJob[], requested: string | undefined): string {
  const batchId = requested ?? prepared.find((p) => p.job.batchId !== undefined)?.job.batchId ?? randomUUID();
  prepared.forEach((p, i) => {
    if (p.job.batchId !== undefined && p.job.batchId !== batchId) {
      throw new JobValidationError([
        {
          path: `jobs[${i}].batchId`,
          message: `is "${p.job.batchId}" but this call enqueues batch "${batchId}"`,
        },
      ]);
    }
    p.job.batchId = batchId;
  });
  return batchId;
}
