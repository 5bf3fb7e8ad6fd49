import type { FastifyInstance } from 'fastify';
import { JobIdSchema } from '../../queue/ids.js';
import { type ApiContext, idParam } from './context.js';

/** `POST /v1/jobs` and `GET /v1/jobs/:id`: one job in, its result (or state) out. */
export function jobRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v1/jobs', async (req, reply) => {
    const result = await ctx.producer.enqueue(req.body as never);
    return reply.code(result.status === 'enqueued' ? 202 : 200).send(result);
  });
  app.get('/v1/jobs/:id', async (req, reply) => {
    const jobId = idParam(req, JobIdSchema, 'id');
    const result = await ctx.store.get(jobId);
    if (result) return result;
    const job = await ctx.queue.getJob(jobId);
    if (job) return reply.send({ id: jobId, status: await job.getState() });
    return reply.code(404).send({ error: `no job ${jobId}` });
  });
}
