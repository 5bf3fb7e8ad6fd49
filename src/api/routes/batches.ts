import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { batchStatus } from '../../queue/batch-status.js';
import { BatchIdSchema } from '../../queue/ids.js';
import { streamResults } from '../../results/export.js';
import { type ApiContext, idParam } from './context.js';

const BatchBody = z.strictObject({
  batchId: z.string().optional(),
  jobs: z.array(z.unknown()).min(1, { error: 'must hold at least one job' }),
});

/** `POST /v1/batches`, a batch's progress and its results as JSON lines. */
export function batchRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post('/v1/batches', async (req, reply) => {
    const body = BatchBody.safeParse(req.body);
    if (!body.success) {
      const issue = body.error.issues[0];
      const where =
        issue?.code === 'unrecognized_keys' ? `body.${issue.keys.join(', body.')}` : issue?.path.join('.');
      const what =
        issue?.code === 'unrecognized_keys'
          ? 'is not a field of a batch (expected batchId, jobs)'
          : issue?.message;
      return reply.code(400).send({ error: `${where || 'body'}: ${what}` });
    }
    const result = await ctx.producer.enqueueBatch(
      body.data.jobs as never,
      body.data.batchId ? { batchId: body.data.batchId } : {},
    );
    return reply
      .code(202)
      .send({ batchId: result.batchId, enqueued: result.enqueued, duplicates: result.duplicates });
  });
  app.get('/v1/batches/:id', async (req, reply) => {
    const batchId = idParam(req, BatchIdSchema, 'batch id');
    const status = await batchStatus(ctx.redis, ctx.keys, ctx.store, batchId);
    if (!status) return reply.code(404).send({ error: `no batch ${batchId}` });
    return status;
  });
  app.get('/v1/batches/:id/results', async (req, reply) => {
    const batchId = idParam(req, BatchIdSchema, 'batch id');
    if (!(await ctx.store.batch(batchId))) return reply.code(404).send({ error: `no batch ${batchId}` });
    return reply.type('application/x-ndjson').send(streamResults(ctx.store, batchId, { format: 'jsonl' }));
  });
}
