import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { recentBatches } from '../../queue/batch-index.js';
import { ErrorSchema } from '../schemas.js';
import type { ApiContext } from './context.js';

/** The query of `GET /v1/batches`. */
export const BatchListQuery = z.strictObject({
  limit: z.coerce
    .number()
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(100, { error: 'must be at most 100' })
    .default(20)
    .describe('how many batches, newest first'),
});

const RecentBatchSchema = z.object({
  batchId: z.string(),
  createdAt: z.number().int().describe('when its first job was enqueued, ms since the epoch'),
  total: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
});

/** `GET /v1/batches`: the most recent batches with their counters, newest first. */
export function batchListRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/batches',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Recent batches with their counters, newest first',
        querystring: BatchListQuery,
        response: { 200: z.array(RecentBatchSchema), 400: ErrorSchema },
      },
    },
    async (req, reply) => {
      const query = BatchListQuery.safeParse(req.query);
      if (!query.success) {
        const issue = query.error.issues[0];
        const where =
          issue?.code === 'unrecognized_keys'
            ? `query.${issue.keys.join(', query.')}: is not a parameter here (expected limit)`
            : `query.${issue?.path.join('.') || 'limit'}: ${issue?.message ?? 'is not valid'}`;
        return reply.code(400).send({ error: where });
      }
      const recent = await recentBatches(ctx.redis, ctx.keys, ctx.store, query.data.limit);
      // The documented fields only: the per-lane figures are the dashboard's and GET /v1/batches/:id's.
      return recent.map(({ batchId, createdAt, total, completed, failed }) => ({
        batchId,
        createdAt,
        total,
        completed,
        failed,
      }));
    },
  );
}
