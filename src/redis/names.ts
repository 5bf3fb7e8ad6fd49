/**
 * Names producers and workers must agree on. Changing one strands every job already queued
 * under the old name, so they live in one place.
 */

/** The BullMQ queue every job goes through. */
export const QUEUE_NAME = 'jobs';

/** The BullMQ queue of callback deliveries (signed POSTs to a batch's `callbackUrl`). */
export const CALLBACK_QUEUE_NAME = 'callbacks';

/** When a batch's callback is sent: once when it is done, or also once per failed job. */
export const CALLBACK_ON = ['done', 'failed-and-done'] as const;

/** What a callback delivery reports, also sent in its `X-Bedrock-Jobs-Event` header. */
export const CALLBACK_EVENTS = ['batch.done', 'job.failed'] as const;

/** What a job asks for; the BullMQ job name is the task. */
export const TASKS = ['generate', 'summarize'] as const;

/** Model-call paths: `invoke` sends each family's native body, `converse` the unified one. */
export const APIS = ['invoke', 'converse'] as const;

/** The chain a job runs on when it names neither `chain` nor `models`. */
export const DEFAULT_CHAIN_NAME = 'default';

/** BullMQ job name of one part of a split document (a child of the document's job). */
export const PART_JOB = 'part';

/** The states of a BullMQ job the service reports, in the order it shows them. */
export const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;

/** The BullMQ queue of offline-lane coordinators: one job per sealed batch that goes offline. */
export const OFFLINE_QUEUE_NAME = 'offline';

/**
 * How a batch's model calls are made: `online` through InvokeModel/Converse as they come,
 * `offline` through Bedrock batch inference (model invocation jobs, about half the price),
 * `auto` offline when the batch is big enough and its deadline allows it (`docs/offline-lane.md`).
 */
export const LANES = ['online', 'offline', 'auto'] as const;

/** The lane a result was produced in. */
export const RESULT_LANES = ['online', 'offline'] as const;
