import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { silentLogger } from '../../log.js';
import { BatchIdSchema } from '../../queue/ids.js';
import { BatchEventStream } from '../batch-events.js';
import type { ResultsTail } from '../results-tail.js';
import { ErrorSchema } from '../schemas.js';
import { compareStreamIds, STREAM_ID } from '../sse.js';
import { type ApiContext, badRequest, idParam } from './context.js';

/**
 * `GET /v1/batches/:id/events`: a batch's progress as server-sent events (README, "HTTP API").
 * 404 for a batch with no record; 204 (which tells EventSource to stop reconnecting) to a
 * client whose `Last-Event-ID` is already the batch's `done` event.
 */
export function eventRoutes(app: FastifyInstance, ctx: ApiContext, tail: ResultsTail): void {
  const deps = {
    redis: ctx.redis,
    keys: ctx.keys,
    store: ctx.store,
    tail,
    logger: ctx.logger ?? silentLogger,
    progressMs: ctx.config.api.eventsProgressMs,
    heartbeatMs: ctx.config.api.eventsHeartbeatMs,
  };
  app.get(
    '/v1/batches/:id/events',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A batch's progress as server-sent events, until it is done",
        description:
          'Events: `progress` `{ batchId, total, completed, failed, sealed }` (the counters first, then at most one per `api.eventsProgressMs`), `job.failed` `{ batchId, id, kind, error }` per failed job, `done` `{ batchId, total, completed, failed, finishedAt }`, after which the response ends. Event ids are results-stream ids: reconnect with `Last-Event-ID` to be sent what was missed.',
        params: z.object({ id: BatchIdSchema }),
        response: {
          200: {
            description: 'The event stream',
            content: { 'text/event-stream': { schema: z.string().describe('event: …\nid: …\ndata: {…}') } },
          },
          204: { description: "`Last-Event-ID` is already the batch's `done` event: nothing more will come" },
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const batchId = idParam(req, BatchIdSchema, 'batch id');
      const header = req.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
      if (lastEventId !== undefined && !STREAM_ID.test(lastEventId)) {
        throw badRequest('Last-Event-ID: must be an event id this stream sent (<ms>-<seq>)');
      }
      const state = await ctx.store.state(batchId);
      if (!state) return reply.code(404).send({ error: `no batch ${batchId}` });
      if (lastEventId && state.doneEventId && compareStreamIds(lastEventId, state.doneEventId) >= 0) {
        return reply.code(204).send();
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // The socket is not reused after the stream: nothing lingers when the API shuts down.
        connection: 'close',
        // nginx and similar proxies would otherwise buffer the stream.
        'x-accel-buffering': 'no',
      });
      await new BatchEventStream(deps, batchId, reply.raw).start(lastEventId);
    },
  );
}
