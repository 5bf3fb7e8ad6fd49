import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BatchIdSchema } from '../../queue/ids.js';
import { RetryFailedOptionsSchema } from '../../queue/retry-options.js';
import { ErrorSchema, RetryFailedSchema } from '../schemas.js';
import { type ApiContext, badRequest, idParam } from './context.js';

/** `POST /v1/batches/:id/retry-failed`: re-enqueue a batch's failed jobs under the same ids. */
export function retryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    '/v1/batches/:id/retry-failed',
    {
      config: { scope: 'enqueue' },
      schema: {
        summary: "Retry a batch's failed jobs, under the same ids",
        description:
          'Each failed job (or each of `ids`) is queued again from the payload the queue kept, and its failed result is superseded: the batch reopens and ends again, with one result per id, once the retried jobs have theirs. A late result of the attempt that failed is never counted. Two requests at once retry each job once. Jobs that completed, are still queued, or whose failed job the queue no longer keeps are left alone and counted by why.',
        params: z.object({ id: BatchIdSchema }),
        body: RetryFailedOptionsSchema.describe('optional: without a body every failed job is retried'),
        response: {
          202: RetryFailedSchema.describe('What was retried, and what was left alone and why'),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const batchId = idParam(req, BatchIdSchema, 'batch id');
      // No body at all retries every failed job; `{}` does too.
      const body = req.body ?? {};
      if (typeof body !== 'object' || Array.isArray(body) || body === null) {
        throw badRequest('body: must be an object like { "ids": [...] }, or left out');
      }
      const result = await ctx.producer.retryFailed(batchId, body as never);
      if (!result) return reply.code(404).send({ error: `no batch ${batchId}` });
      return reply.code(202).send(result);
    },
  );
}
