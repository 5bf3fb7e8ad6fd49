import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { JobIdSchema } from '../../queue/ids.js';
import { JobSchema } from '../../queue/jobs.js';
import { ResultRecordSchema } from '../../results/record.js';
import { EnqueueResultSchema, ErrorSchema, JobStateSchema } from '../schemas.js';
import { type ApiContext, idParam } from './context.js';

const JobParams = z.object({ id: JobIdSchema });

/** `POST /v1/jobs` and `GET /v1/jobs/:id`: one job in, its result (or state) out. */
export function jobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    '/v1/jobs',
    {
      config: { scope: 'enqueue' },
      schema: {
        summary: 'Enqueue one job',
        description:
          'The job is checked as the producer checks it; an id that is queued, running or has a result is not added again.',
        body: JobSchema,
        response: {
          202: EnqueueResultSchema.describe('Enqueued'),
          200: EnqueueResultSchema.describe('Already known: `status: "duplicate"`, nothing added'),
          400: ErrorSchema,
          413: ErrorSchema.describe('`document` over `limits.maxDocumentBytes`'),
        },
      },
    },
    async (req, reply) => {
      // The producer parses the body with JobSchema (and the catalog), naming the field it refuses.
      const result = await ctx.producer.enqueue(req.body as never);
      return reply.code(result.status === 'enqueued' ? 202 : 200).send(result);
    },
  );
  app.get(
    '/v1/jobs/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A job: its result record, or its state while it has none',
        params: JobParams,
        response: {
          200: z
            .union([ResultRecordSchema, JobStateSchema])
            .describe('The result record, or `{ id, status }`'),
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const jobId = idParam(req, JobIdSchema, 'id');
      const result = await ctx.store.get(jobId);
      if (result) return result;
      const job = await ctx.queue.getJob(jobId);
      if (job) return reply.send({ id: jobId, status: await job.getState() });
      return reply.code(404).send({ error: `no job ${jobId}` });
    },
  );
}
