import { z } from 'zod';
import { SIGNATURE_HEADER } from './signature.js';

/** Unix time in ms, as Redis's clock gave it when the event happened. */
const Millis = z.number().int().nonnegative();
const Count = z.number().int().nonnegative();
/** `redis.sha1hex` of the event, the batch id and the job id: the same event gets the same id. */
const DeliveryId = z.string().regex(/^[0-9a-f]{40}$/, { error: 'must be 40 hex digits' });

/**
 * One callback to send, as the Lua scripts write it to the outbox when a batch is done or one
 * of its jobs fails, and as the BullMQ delivery job carries it. The body is made from it
 * (never stored), so every attempt sends the same bytes.
 */
export const DeliverySchema = z.discriminatedUnion('event', [
  z.object({
    event: z.literal('batch.done'),
    deliveryId: DeliveryId,
    url: z.string().min(1),
    batchId: z.string().min(1),
    total: Count,
    completed: Count,
    failed: Count,
    at: Millis,
  }),
  z.object({
    event: z.literal('job.failed'),
    deliveryId: DeliveryId,
    url: z.string().min(1),
    batchId: z.string().min(1),
    jobId: z.string().min(1),
    kind: z.string().min(1),
    at: Millis,
  }),
]);
export type Delivery = z.infer<typeof DeliverySchema>;

/**
 * The JSON body of a delivery, fields in a fixed order: `{ type, batchId, total, completed,
 * failed, finishedAt }` for `batch.done`, `{ type, batchId, id, kind, failedAt }` for
 * `job.failed`. Counters and kinds only: never prompt or output text.
 */
export function deliveryBody(d: Delivery): string {
  const at = new Date(d.at).toISOString();
  return JSON.stringify(
    d.event === 'batch.done'
      ? {
          type: d.event,
          batchId: d.batchId,
          total: d.total,
          completed: d.completed,
          failed: d.failed,
          finishedAt: at,
        }
      : { type: d.event, batchId: d.batchId, id: d.jobId, kind: d.kind, failedAt: at },
  );
}

/** Headers of a delivery besides its signature. */
export function deliveryHeaders(d: Delivery, signature: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'bedrock-jobs',
    'x-bedrock-jobs-event': d.event,
    // The same for every attempt of one event: receivers deduplicate on it.
    'x-bedrock-jobs-delivery': d.deliveryId,
    [SIGNATURE_HEADER]: signature,
  };
}

/** The BullMQ job id of a delivery: deterministic, so queueing it twice adds it once. */
export function deliveryJobId(deliveryId: string): string {
  return `cb-${deliveryId}`;
}
