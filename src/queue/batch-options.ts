import { z } from 'zod';
import {
  type CallbackOn,
  CallbackOnSchema,
  CallbackUrlSchema,
  callbackRefusal,
} from '../callbacks/options.js';
import type { Config } from '../config.js';
import { LANES } from '../redis/names.js';
import { BatchIdSchema } from './ids.js';
import { type JobIssue, JobValidationError, toJobIssues } from './validation.js';

/** The options of `enqueueBatch`, as callers write them (HTTP body fields of the same names). */
export const BatchOptionsSchema = z
  .strictObject({
    batchId: BatchIdSchema.optional().describe("default: the jobs' shared batchId, or a new uuid"),
    open: z
      .boolean()
      .default(false)
      .describe(
        'leave the batch open for more calls; sealBatch ends it. Without it the call seals the batch',
      ),
    callbackUrl: CallbackUrlSchema.optional().describe('POSTed a signed JSON summary when the batch is done'),
    callbackOn: CallbackOnSchema.optional().describe(
      'done (default) or failed-and-done: also once per failed job',
    ),
    lane: z
      .enum(LANES)
      .default('online')
      .describe(
        'online: model calls as jobs come; offline: Bedrock batch inference at about half the price, back within hours; auto: offline when the batch is big enough and its deadline allows',
      ),
    deadline: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        'offline and auto: jobs not back from the offline lane by then run online; default offline.deadlineHours from now',
      ),
  })
  .superRefine((o, ctx) => {
    if (o.callbackOn !== undefined && o.callbackUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['callbackOn'], message: 'needs a callbackUrl' });
    }
    if (o.deadline !== undefined && o.lane === 'online') {
      ctx.addIssue({ code: 'custom', path: ['deadline'], message: 'is for lane "offline" or "auto"' });
    }
  })
  .transform(({ callbackUrl, callbackOn, ...rest }) => ({
    ...rest,
    ...(callbackUrl !== undefined
      ? { callback: { url: callbackUrl, on: callbackOn ?? ('done' as CallbackOn) } }
      : {}),
  }));
/** Options of `enqueueBatch`; every field may be left out. */
export type BatchOptions = z.input<typeof BatchOptionsSchema>;
export type ParsedBatchOptions = z.output<typeof BatchOptionsSchema>;

/** Issues of the options object, named by field (`callbackUrl: must be an http:// or https:// URL`). */
function issuesOf(error: z.ZodError): JobIssue[] {
  return toJobIssues('', error).map((i) => ({ ...i, path: i.path.replace(/^\./, '') || 'options' }));
}

/**
 * Checks the options of one `enqueueBatch` call, and the callback against the settings: a
 * callback needs `callbacks.secret` and a host on `callbacks.allowedHosts` when that is set.
 * @throws JobValidationError naming the field.
 */
export function parseBatchOptions(input: unknown, callbacks: Config['callbacks']): ParsedBatchOptions {
  const parsed = BatchOptionsSchema.safeParse(input ?? {}, { reportInput: true });
  if (!parsed.success) throw new JobValidationError(issuesOf(parsed.error));
  const { callback } = parsed.data;
  const refusal = callback && callbackRefusal(callback.url, callbacks);
  if (refusal) throw new JobValidationError([{ path: 'callbackUrl', message: refusal }]);
  return parsed.data;
}
