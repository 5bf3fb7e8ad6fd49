import { z } from 'zod';
import { JobIdSchema } from './ids.js';
import { JobValidationError, toJobIssues } from './validation.js';

/** Which jobs of a batch to retry; all of its failed ones when `ids` is left out. */
export const RetryFailedOptionsSchema = z.strictObject({
  ids: z
    .array(JobIdSchema)
    .min(1, { error: 'must name at least one job; leave it out to retry every failed job' })
    .max(100_000)
    .optional()
    .describe('retry only these jobs of the batch (each must be one of its failed jobs to be retried)'),
});
export type RetryFailedOptions = z.input<typeof RetryFailedOptionsSchema>;

/**
 * The ids a retry names, checked; undefined for every failed job of the batch.
 * @throws JobValidationError naming `ids[i]` for an id that breaks the id rule.
 */
export function retryIds(options: RetryFailedOptions): string[] | undefined {
  const parsed = RetryFailedOptionsSchema.safeParse(options, { reportInput: true });
  if (!parsed.success) throw new JobValidationError(toJobIssues('', parsed.error).map(trimRoot));
  return parsed.data.ids;
}

/** Issues of the options object, named by field (`ids[3]: must not contain ":" …`). */
function trimRoot(issue: { path: string; message: string }) {
  return { ...issue, path: issue.path.replace(/^\./, '') || 'options' };
}
