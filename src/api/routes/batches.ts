import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CallbackOnSchema, CallbackUrlSchema } from '../../callbacks/options.js';
import { offlineView } from '../../offline/view.js';
import { parseBatchOptions } from '../../queue/batch-options.js';
import { batchStatus } from '../../queue/batch-status.js';
import { BatchIdSchema } from '../../queue/ids.js';
import { JobSchema } from '../../queue/jobs.js';
import { LANES } from '../../redis/names.js';
import { streamResults } from '../../results/export.js';
import { ResultRecordSchema } from '../../results/record.js';
import { HOUR, MIB } from '../../units.js';
import { streamedBodies } from '../body.js';
import { enqueueStream } from '../enqueue-stream.js';
import { readLines } from '../ndjson.js';
import { BatchEnqueuedSchema, BatchViewSchema, ErrorSchema, NdjsonRefusedSchema } from '../schemas.js';
import { type ApiContext, idParam } from './context.js';

/** The media type of a batch sent as one JSON job per line. */
export const NDJSON = 'application/x-ndjson';

/** A line may hold a whole document plus this much of other fields (messages, metadata, …). */
const LINE_OVERHEAD_BYTES = 64 * 1024;
/** Text per enqueue round of an NDJSON batch, besides `api.ndjsonChunkJobs` jobs. */
const CHUNK_BYTES = 16 * MIB;

/** The JSON body of `POST /v1/batches`; each job is checked by the producer, naming `jobs[i]`. */
const BatchBody = z.strictObject({
  batchId: z.string().optional(),
  jobs: z.array(z.unknown()).min(1, { error: 'must hold at least one job' }),
  // Checked by the producer (scheme, allow-list, a signing secret configured).
  callbackUrl: z
    .string()
    .optional()
    .describe('POSTed a signed summary when the batch is done (docs/callbacks.md)'),
  callbackOn: CallbackOnSchema.optional().describe(
    'done (default), or failed-and-done: also once per failed job',
  ),
  lane: z
    .enum(LANES)
    .optional()
    .describe(
      'online (default), offline (Bedrock batch inference, about half the price) or auto (docs/offline-lane.md)',
    ),
  deadline: z.string().optional().describe('offline/auto: jobs not back by then (ISO 8601) run online'),
});

/** What the OpenAPI document shows of {@link BatchBody}: the jobs' own schema. */
const BatchBodyDoc = BatchBody.extend({
  batchId: BatchIdSchema.optional(),
  jobs: z.array(JobSchema).min(1),
  callbackUrl: CallbackUrlSchema.optional(),
});

/** Query parameters of an NDJSON batch (a JSON body carries the same fields itself). */
export const BatchQuery = z.strictObject({
  batchId: BatchIdSchema.optional().describe(
    "NDJSON only: the batch's id; default the first line's, else a new uuid",
  ),
  callbackUrl: z.string().optional().describe('NDJSON only: as the JSON body field'),
  callbackOn: CallbackOnSchema.optional().describe('NDJSON only: as the JSON body field'),
  lane: z.enum(LANES).optional().describe('NDJSON only: as the JSON body field'),
  deadline: z.string().optional().describe('NDJSON only: as the JSON body field'),
});

/** A batch's lane and deadline as the producer takes them: one deadline for every round of a stream. */
function laneOptions(
  lane: (typeof LANES)[number] | undefined,
  deadline: string | undefined,
  deadlineHours: number,
): { lane?: (typeof LANES)[number]; deadline?: string } {
  if (lane === undefined || lane === 'online')
    return { ...(lane ? { lane } : {}), ...(deadline ? { deadline } : {}) };
  return { lane, deadline: deadline ?? new Date(Date.now() + deadlineHours * HOUR).toISOString() };
}

const BatchParams = z.object({ id: BatchIdSchema });

/**
 * The first issue of a batch's body or query: `body.callback: is not a field of a batch …`,
 * `jobs: must hold at least one job`, `query.batchId: must not contain ":" …`.
 */
function firstIssue(error: z.ZodError, root: 'body' | 'query', fields: string): string {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    return `${root}.${issue.keys.join(`, ${root}.`)}: is not a field of a batch (expected ${fields})`;
  }
  const path = issue?.path.join('.') ?? '';
  // Body fields are named as they are in the JSON (`jobs`), query parameters as `query.<name>`.
  const where = path === '' ? root : root === 'query' ? `query.${path}` : path;
  return `${where}: ${issue?.message ?? 'is not valid'}`;
}

async function enqueueJsonBody(req: FastifyRequest, reply: FastifyReply, ctx: ApiContext) {
  if (Object.keys(req.query as object).length > 0) {
    const [name] = Object.keys(req.query as object);
    return reply
      .code(400)
      .send({ error: `query.${name}: only for ${NDJSON} bodies; a JSON body carries batchId itself` });
  }
  const body = BatchBody.safeParse(req.body);
  if (!body.success) {
    return reply.code(400).send({
      error: firstIssue(body.error, 'body', 'batchId, jobs, callbackUrl, callbackOn, lane, deadline'),
    });
  }
  const { batchId, callbackUrl, callbackOn, lane, deadline } = body.data;
  const result = await ctx.producer.enqueueBatch(body.data.jobs as never, {
    ...(batchId ? { batchId } : {}),
    ...(callbackUrl !== undefined ? { callbackUrl } : {}),
    ...(callbackOn !== undefined ? { callbackOn } : {}),
    ...laneOptions(lane, deadline, ctx.config.offline.deadlineHours),
  });
  return reply
    .code(202)
    .send({ batchId: result.batchId, enqueued: result.enqueued, duplicates: result.duplicates });
}

async function enqueueNdjsonBody(req: FastifyRequest, reply: FastifyReply, ctx: ApiContext) {
  const body = req.body as Readable;
  const query = BatchQuery.safeParse(req.query);
  if (!query.success) {
    body.resume();
    return reply
      .code(400)
      .send({ error: firstIssue(query.error, 'query', 'batchId, callbackUrl, callbackOn, lane, deadline') });
  }
  const { callbackUrl, callbackOn } = query.data;
  const callback = {
    ...(callbackUrl !== undefined ? { callbackUrl } : {}),
    ...(callbackOn !== undefined ? { callbackOn } : {}),
    ...laneOptions(query.data.lane, query.data.deadline, ctx.config.offline.deadlineHours),
  };
  // Refused before a line is read, rather than at the first round.
  parseBatchOptions(callback, ctx.config.callbacks);
  const maxLineBytes = ctx.config.limits.maxDocumentBytes + LINE_OVERHEAD_BYTES;
  const lines = readLines(
    // Stopping early must not destroy the request: the client is still to read the answer.
    body.iterator({ destroyOnReturn: false }),
    maxLineBytes,
    `is longer than ${maxLineBytes} bytes (limits.maxDocumentBytes plus ${LINE_OVERHEAD_BYTES / 1024} KiB for the other fields)`,
  );
  const outcome = await enqueueStream(
    lines,
    { producer: ctx.producer, catalog: ctx.catalog, config: ctx.config },
    {
      ...(query.data.batchId !== undefined ? { batchId: query.data.batchId } : {}),
      ...(Object.keys(callback).length > 0 ? { callback } : {}),
      chunkJobs: ctx.config.api.ndjsonChunkJobs,
      chunkBytes: CHUNK_BYTES,
    },
  );
  if (outcome.ok) {
    const { batchId, enqueued, duplicates } = outcome;
    return reply.code(202).send({ batchId, enqueued, duplicates });
  }
  // Whatever the client still sends is read and dropped, so it gets to read this answer.
  body.resume();
  const { ok: _, status, ...refused } = outcome;
  return reply.code(status).send(refused);
}

/** `POST /v1/batches` (JSON or streamed NDJSON), a batch's progress and its results as JSON lines. */
export function batchRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // In a context of their own, so only this route takes NDJSON bodies.
  app.register(async (scoped) => {
    streamedBodies(scoped, NDJSON);
    scoped.post(
      '/v1/batches',
      {
        config: { scope: 'enqueue' },
        schema: {
          summary: 'Enqueue a batch: a JSON body, or NDJSON streamed (one job per line)',
          description: `A JSON body \`{ batchId?, jobs }\` is checked whole: one bad job refuses the batch. An \`${NDJSON}\` body is read as it arrives and enqueued in rounds of \`api.ndjsonChunkJobs\` jobs, so its size has no limit; a refused line stops it with 400 (413 when too long) naming the line and field, after every line before it was enqueued. Send the rest, from that line, with the same \`batchId\` (an empty body closes the batch). Jobs with ids are never enqueued twice, so resending a whole file is safe too.`,
          querystring: BatchQuery,
          body: {
            content: {
              'application/json': { schema: BatchBodyDoc },
              [NDJSON]: { schema: JobSchema.describe('one job per line') },
            },
          },
          response: {
            202: BatchEnqueuedSchema.describe('Enqueued'),
            400: z.union([NdjsonRefusedSchema, ErrorSchema]).describe('A bad field or line'),
            413: z.union([NdjsonRefusedSchema, ErrorSchema]).describe('A body, line or document too large'),
          },
        },
      },
      async (req, reply) =>
        req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() === NDJSON
          ? enqueueNdjsonBody(req, reply, ctx)
          : enqueueJsonBody(req, reply, ctx),
    );
  });
  app.get(
    '/v1/batches/:id',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A batch's progress",
        params: BatchParams,
        response: { 200: BatchViewSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const batchId = idParam(req, BatchIdSchema, 'batch id');
      const status = await batchStatus(ctx.redis, ctx.keys, ctx.store, batchId);
      if (!status) return reply.code(404).send({ error: `no batch ${batchId}` });
      const offline = await offlineView(ctx.redis, ctx.keys, batchId);
      return { ...status, ...(offline ? { offline } : {}) };
    },
  );
  app.get(
    '/v1/batches/:id/results',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A batch's results: one result record per line, streamed",
        params: BatchParams,
        response: {
          200: {
            description: 'One result record per line, in finishing order',
            content: { [NDJSON]: { schema: ResultRecordSchema } },
          },
          400: ErrorSchema,
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      const batchId = idParam(req, BatchIdSchema, 'batch id');
      if (!(await ctx.store.batch(batchId))) return reply.code(404).send({ error: `no batch ${batchId}` });
      return reply.type(NDJSON).send(streamResults(ctx.store, batchId, { format: 'jsonl' }));
    },
  );
}
