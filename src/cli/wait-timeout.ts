import type { BatchStatus } from '../queue/batch-status.js';
import { CliError } from './context.js';

/**
 * Exit code of `enqueue --wait --timeout` and `status BATCH --watch --timeout` when the batch
 * was not done in time (0: every job completed, 2: bad input, 3: some failed).
 */
export const EXIT_NOT_FINISHED = 4;

/**
 * The line for a batch a wait gave up on: `batch X not finished after 10m: 997/1000 done,
 * 3 waiting`, then what else is unfinished (running, never queued, still open) and that its
 * jobs stay queued.
 */
export function notFinishedLine(s: BatchStatus, after: string): string {
  const finished = s.completed + s.failed;
  const parts = [`${finished}/${s.total} done`, `${s.waiting} waiting`];
  if (s.active > 0) parts.push(`${s.active} active`);
  if (s.missing > 0) parts.push(`${s.missing} never reached the queue (enqueue the batch again to add them)`);
  const open = s.sealed ? '' : '; open: not done until it is sealed';
  return `batch ${s.batchId} not finished after ${after}: ${parts.join(', ')}${open}. Its jobs stay queued; follow it with: bedrock-jobs status ${s.batchId} --watch`;
}

/** The error a command exits with when its wait for a batch ran out. */
export function notFinishedError(s: BatchStatus, after: string): CliError {
  return new CliError(notFinishedLine(s, after), EXIT_NOT_FINISHED);
}
