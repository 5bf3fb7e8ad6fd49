import { z } from 'zod';
import { BatchIdSchema, JobIdSchema } from '../queue/ids.js';
import type { Producer, RetryFailedResult } from '../queue/producer.js';
import { type CliContext, CliError } from './context.js';

/** `--ids a,b,c`: job ids, each checked with the id rule. */
const IdsFlagSchema = z
  .string()
  .transform((text) => text.split(',').map((id) => id.trim()))
  .pipe(z.array(JobIdSchema).min(1));

/**
 * Reads `--retry-failed BATCH` and `--ids`.
 * @throws CliError naming the flag and the id that breaks the id rule.
 */
export function parseRetryFlags(batch: string, ids: string | undefined): { batchId: string; ids?: string[] } {
  const batchId = BatchIdSchema.safeParse(batch);
  if (!batchId.success) throw new CliError(`--retry-failed: ${batchId.error.issues[0]?.message}`);
  if (ids === undefined) return { batchId: batchId.data };
  const parsed = IdsFlagSchema.safeParse(ids);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = typeof issue?.path[0] === 'number' ? ` (id ${issue.path[0] + 1})` : '';
    throw new CliError(`--ids${at}: ${issue?.message ?? 'is not a list of job ids'}`);
  }
  return { batchId: batchId.data, ids: parsed.data };
}

/** What was left alone and why, one phrase each; empty when nothing was. */
function leftAlone(r: RetryFailedResult): string[] {
  const list = (ids: string[]) => (ids.length > 5 ? `${ids.slice(0, 5).join(', ')}, …` : ids.join(', '));
  return [
    r.completed > 0 ? `${r.completed} completed` : '',
    r.pending > 0 ? `${r.pending} still queued or running` : '',
    r.busy.length > 0
      ? `${r.busy.length} being retried by another call (${list(r.busy)}): run it again later`
      : '',
    r.expired.length > 0
      ? `${r.expired.length} no longer kept by the queue (${list(r.expired)}): enqueue them under new ids`
      : '',
    r.missing.length > 0
      ? `${r.missing.length} with no job to retry (${list(r.missing)}): enqueue the batch input again with --batch ${r.batchId}`
      : '',
    r.unknown.length > 0 ? `${r.unknown.length} not in the batch (${list(r.unknown)})` : '',
  ].filter(Boolean);
}

/**
 * `enqueue --retry-failed BATCH [--ids a,b]`: re-enqueues the batch's failed jobs under the same
 * ids and says what it did. Exits 1 for a batch that does not exist.
 */
export async function retryFailedCommand(
  ctx: CliContext,
  producer: Producer,
  flags: { batchId: string; ids?: string[] },
): Promise<RetryFailedResult> {
  const result = await producer.retryFailed(flags.batchId, flags.ids ? { ids: flags.ids } : {});
  if (!result) throw new CliError(`--retry-failed: no batch ${flags.batchId}`, 1);
  if (ctx.json()) ctx.emit(result);
  else {
    const rest = leftAlone(result);
    ctx.out(
      `batch ${result.batchId}: ${result.retried} failed jobs enqueued again${rest.length > 0 ? `; left alone: ${rest.join('; ')}` : ''}`,
    );
  }
  return result;
}
