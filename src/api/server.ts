import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { batchStatus } from '../queue/batch-status.js';
import { BatchIdSchema, JobIdSchema } from '../queue/ids.js';
import type { QueuedJob } from '../queue/jobs.js';
import { createProducer } from '../queue/producer.js';
import { isJobValidationError } from '../queue/validation.js';
import { keysFor } from '../redis/keys.js';
import { configuredLimits } from '../resilience/ratelimit.js';
import { streamResults } from '../results/export.js';
import { ResultStore } from '../results/store.js';
import { requireToken } from './auth.js';
import { BodyError, strictJsonBodies } from './body.js';
import { createMetrics } from './metrics.js';

export interface ApiOptions {
  config: Config;
  logger?: Logger;
}

export interface RunningApi {
  app: FastifyInstance;
  /** Stops listening and closes every connection it opened. Idempotent. */
  close(): Promise<void>;
}

const BatchBody = z.strictObject({
  batchId: z.string().optional(),
  jobs: z.array(z.unknown()).min(1, { error: 'must hold at least one job' }),
});

/** Routes that answer without a token; every other route, matched or not, needs it. */
const PUBLIC_ROUTES = ['/healthz'];

function badRequest(message: string): Error {
  return new BodyError(message, 400);
}

/** Reads the `:id` route parameter with the same rule that ids are enqueued under. */
function idParam(req: FastifyRequest, schema: z.ZodType<string>, what: string): string {
  const raw = (req.params as { id?: unknown }).id;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(`${what}: ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  return parsed.data;
}

/**
 * The HTTP API (README.md, "HTTP API"): enqueue jobs and batches, read results and
 * batch progress, the model catalog with quotas, Prometheus metrics and a health check.
 * Every `/v1` route needs `Authorization: Bearer <API_TOKEN>` when a token is configured.
 */
export async function buildApi(options: ApiOptions): Promise<RunningApi> {
  const { config } = options;
  const keys = keysFor(config.prefix);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const producer = createProducer({ redis, config, ...(options.logger ? { logger: options.logger } : {}) });
  const store = new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds });
  const queue = new Queue<QueuedJob>(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  const catalog = new ModelCatalog(config.customModels);
  const limits = configuredLimits(config, catalog);
  const metrics = createMetrics({ queue, redis, keys });
  const app = Fastify({ logger: false, bodyLimit: config.api.bodyLimitBytes });
  strictJsonBodies(app);
  requireToken(app, {
    token: config.apiToken,
    publicRoutes: config.api.publicMetrics ? [...PUBLIC_ROUTES, '/metrics'] : PUBLIC_ROUTES,
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (isJobValidationError(error))
      return reply.code(error.tooLarge ? 413 : 400).send({ error: error.message });
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        error: `body: larger than ${config.api.bodyLimitBytes} bytes (api.bodyLimitBytes); send the batch in several requests`,
      });
    }
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) options.logger?.error({ err: error }, 'api request failed');
    return reply.code(status).send({ error: status === 500 ? 'internal error' : error.message });
  });
  app.get('/healthz', async (_req, reply) => {
    const ok = await redis.ping().then(
      (p) => p === 'PONG',
      () => false,
    );
    return reply.code(ok ? 200 : 503).send({ ok, redis: ok ? 'up' : 'down' });
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));

  app.post('/v1/jobs', async (req, reply) => {
    const result = await producer.enqueue(req.body as never);
    return reply.code(result.status === 'enqueued' ? 202 : 200).send(result);
  });
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
    const result = await producer.enqueueBatch(
      body.data.jobs as never,
      body.data.batchId ? { batchId: body.data.batchId } : {},
    );
    return reply
      .code(202)
      .send({ batchId: result.batchId, enqueued: result.enqueued, duplicates: result.duplicates });
  });
  app.get('/v1/jobs/:id', async (req, reply) => {
    const jobId = idParam(req, JobIdSchema, 'id');
    const result = await store.get(jobId);
    if (result) return result;
    const job = await queue.getJob(jobId);
    if (job) return reply.send({ id: jobId, status: await job.getState() });
    return reply.code(404).send({ error: `no job ${jobId}` });
  });
  app.get('/v1/batches/:id', async (req, reply) => {
    const batchId = idParam(req, BatchIdSchema, 'batch id');
    const status = await batchStatus(redis, keys, store, batchId);
    if (!status) return reply.code(404).send({ error: `no batch ${batchId}` });
    return status;
  });
  app.get('/v1/batches/:id/results', async (req, reply) => {
    const batchId = idParam(req, BatchIdSchema, 'batch id');
    if (!(await store.batch(batchId))) return reply.code(404).send({ error: `no batch ${batchId}` });
    return reply.type('application/x-ndjson').send(streamResults(store, batchId, { format: 'jsonl' }));
  });
  app.get('/v1/models', async () =>
    catalog.list().map((m) => ({
      id: m.id,
      family: m.family,
      name: m.name,
      contextWindow: m.contextWindow,
      maxOutputTokens: m.maxOutputTokens,
      priceInPer1k: m.priceInPer1k,
      priceOutPer1k: m.priceOutPer1k,
      quota: limits(m.id),
      inChains: Object.entries(config.chains)
        .filter(([, ids]) => ids.some((x) => catalog.resolve(x)?.baseId === m.id))
        .map(([name]) => name),
    })),
  );

  let closing: Promise<void> | undefined;
  return {
    app,
    close() {
      closing ??= (async () => {
        for (const step of [
          () => app.close(),
          () => queue.close(),
          () => producer.close(),
          () => redis.quit(),
        ]) {
          try {
            await step();
          } catch (err) {
            options.logger?.warn({ err }, 'error while closing the api');
          }
        }
      })();
      return closing;
    },
  };
}
