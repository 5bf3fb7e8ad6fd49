import { z } from 'zod';
import type { OfflineView } from '../offline/view.js';
import type { BatchStatus } from '../queue/batch-status.js';
import type { EnqueueResult, ExistingState } from '../queue/bulk-add.js';
import type { RetryFailedResult } from '../queue/retry-failed.js';
import { CALLBACK_ON, QUEUE_STATES } from '../redis/names.js';
import type { CallbackState } from '../results/batch-state.js';

/**
 * Zod schemas of what the API answers, for the OpenAPI document (`docs.ts`). Each is typed
 * against the type the code returns (`z.ZodType<EnqueueResult>`), so the document cannot
 * drift from the answers without a type error. Requests use the producer's own schemas
 * (`src/queue/jobs.ts`, `src/queue/ids.ts`) and results the record's (`src/results/record.ts`).
 */

/** Every 4xx and 5xx answer. */
export const ErrorSchema = z
  .object({
    error: z.string().describe('what is wrong, starting with the field: `job.params.temperature: …`'),
  })
  .describe('The request was refused; `error` names the field or the problem');

const EXISTING: readonly ExistingState[] = [
  'queued',
  'delayed',
  'active',
  'completed',
  'failed',
  'enqueuing',
];

/** `POST /v1/jobs`. */
export const EnqueueResultSchema: z.ZodType<EnqueueResult> = z.discriminatedUnion('status', [
  z.object({ id: z.string(), status: z.literal('enqueued') }),
  z.object({
    id: z.string(),
    status: z.literal('duplicate'),
    existing: z
      .enum(EXISTING as [ExistingState, ...ExistingState[]])
      .describe('where the id already is; nothing was added'),
  }),
]);

/** `POST /v1/batches`, either body form. */
export const BatchEnqueuedSchema = z.object({
  batchId: z.string(),
  enqueued: z.number().int().describe('jobs this request added to the batch'),
  duplicates: z.number().int().describe('jobs whose id was already known; not added again'),
});

/** `POST /v1/batches` with an NDJSON body that holds a refused line. */
export const NdjsonRefusedSchema = ErrorSchema.extend({
  line: z.number().int().optional().describe('the refused line (1-based, blank lines counted)'),
  field: z.string().optional().describe('the wrong field of that line, e.g. `job.params.temperature`'),
  batchId: z.string().optional().describe('the batch the lines before it joined; it stays open'),
  accepted: z
    .object({ enqueued: z.number().int(), duplicates: z.number().int() })
    .describe('the jobs of the lines before the refused one, every one of them in the batch'),
}).describe('A line was refused; every line before it is enqueued, none from it on');

/** The `callback` of `GET /v1/batches/:id` (docs/callbacks.md). */
const CallbackStateSchema: z.ZodType<CallbackState> = z.object({
  on: z.enum(CALLBACK_ON),
  status: z
    .enum(['waiting', 'pending', 'delivered', 'failed'])
    .describe('waiting: the batch is not done; pending: queued or being retried'),
  attempts: z.number().int().describe('POSTs of the batch.done delivery so far'),
  lastError: z.string().optional().describe('the last failed attempt, e.g. `HTTP 503`'),
  failedJobs: z
    .object({ delivered: z.number().int(), failed: z.number().int() })
    .optional()
    .describe('failed-and-done: job.failed deliveries that ended'),
});

/** `GET /v1/batches/:id` of a batch with an offline lane: its invocation jobs. */
export const OfflineViewSchema: z.ZodType<OfflineView> = z.object({
  lane: z.enum(['offline', 'auto']),
  deadline: z.string().describe('jobs not back from the offline lane by then run online'),
  planned: z.boolean(),
  done: z.boolean().describe('every invocation job was read back or handed online'),
  invocationJobs: z.array(
    z.object({
      part: z.number().int(),
      modelId: z.string(),
      records: z.number().int(),
      status: z.string().optional().describe("Bedrock's status; NotCreated when Bedrock refused the job"),
      message: z.string().optional(),
      jobArn: z.string().optional(),
      offline: z.number().int().describe('results written from its output'),
      online: z.number().int().describe('calls sent online from it'),
    }),
  ),
});

const LaneCountersSchema = z.object({
  completed: z.number().int(),
  failed: z.number().int(),
  costUsd: z.number(),
});

/** `GET /v1/batches/:id`. */
/** A batch's progress, as `batchStatus` reads it. */
const BatchStatusFields = z.object({
  batchId: z.string(),
  total: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  sealed: z
    .boolean()
    .describe('false while more jobs may be added (enqueued with open: true, not yet sealed)'),
  done: z.boolean().describe('sealed, and every job has a result'),
  finishedAt: z.string().optional().describe('when it became done'),
  callback: CallbackStateSchema.optional(),
  waiting: z.number().int(),
  active: z.number().int(),
  missing: z.number().int().describe('counted but never reached the queue; enqueue the batch again'),
  lanes: z
    .object({
      online: LaneCountersSchema,
      offline: LaneCountersSchema.extend({
        onlineCostUsd: z.number().describe('what the same results would have cost at on-demand prices'),
      }),
    })
    .describe('results and cost per lane (docs/offline-lane.md)'),
}) satisfies z.ZodType<BatchStatus>;
/** `GET /v1/batches/:id`: the progress, and the offline lane's invocation jobs when it has one. */
export const BatchViewSchema = BatchStatusFields.extend({ offline: OfflineViewSchema.optional() });

/** `GET /v1/jobs/:id` for a job without a result yet. */
export const JobStateSchema = z.object({
  id: z.string(),
  status: z.enum([...QUEUE_STATES, 'unknown']).describe('its state in BullMQ'),
});

/** `POST /v1/batches/:id/retry-failed`. */
export const RetryFailedSchema: z.ZodType<RetryFailedResult> = z.object({
  batchId: z.string(),
  retried: z.number().int().describe('failed jobs queued again under the same ids; the batch reopened'),
  completed: z.number().int().describe('jobs with a completed result: left alone'),
  pending: z.number().int().describe('jobs still queued or running: left alone'),
  busy: z
    .array(z.string())
    .describe('jobs another retry is re-enqueueing now, or not replaceable yet: retry again later'),
  expired: z
    .array(z.string())
    .describe('failed jobs the queue no longer keeps (keepFailedSeconds): enqueue them under new ids'),
  missing: z
    .array(z.string())
    .describe('jobs with neither a result nor a queued job: enqueue the batch input again'),
  unknown: z.array(z.string()).describe('ids that are not jobs of this batch'),
});
