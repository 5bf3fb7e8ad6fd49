import { timingSafeEqual } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import type { QueuedJob } from '../queue/jobs.js';
import { createProducer } from '../queue/producer.js';
import { isJobValidationError } from '../queue/validation.js';
import { keysFor } from '../redis/keys.js';
import { configuredLimits } from '../resilience/ratelimit.js';
import { streamResults } from '../results/export.js';
import { ResultStore } from '../results/store.js';
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

const BatchBody = z.object({
  batchId: z.string().optional(),
  jobs: z.array(z.unknown()).min(1, { error: 'must hold at least one job' }),
});
const Ids = z.object({ id: z.string().min(1).max(200) });

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The HTTP API (DESIGN.md "HTTP contract"): enqueue jobs and batches, read results and
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
  const app = Fastify({ logger: false, bodyLimit: 50 * 1024 * 1024 });

  app.setErrorHandler((error: Error & { statusCode?: number }, _req, reply) => {
    if (isJobValidationError(error)) return reply.code(400).send({ error: error.message });
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) options.logger?.error({ err: error }, 'api request failed');
    return reply.code(status).send({ error: status === 500 ? 'internal error' : error.message });
  });
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!config.apiToken || !req.url.startsWith('/v1/')) return;
    if (!tokenMatches(req.headers.authorization, config.apiToken)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'missing or wrong bearer token' });
    }
  });

  const id = (req: FastifyRequest): string => {
    const parsed = Ids.safeParse(req.params);
    if (!parsed.success)
      throw Object.assign(new Error('id: must be 1 to 200 characters'), { statusCode: 400 });
    return parsed.data.id;
  };

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
    if (!body.success)
      return reply.code(400).send({
        error: `${body.error.issues[0]?.path.join('.') || 'body'}: ${body.error.issues[0]?.message}`,
      });
    const result = await producer.enqueueBatch(
      body.data.jobs as never,
      body.data.batchId ? { batchId: body.data.batchId } : {},
    );
    return reply
      .code(202)
      .send({ batchId: result.batchId, enqueued: result.enqueued, duplicates: result.duplicates });
  });
  app.get('/v1/jobs/:id', async (req, reply) => {
    const jobId = id(req);
    const result = await store.get(jobId);
    if (result) return result;
    const job = await queue.getJob(jobId);
    if (job) return reply.send({ id: jobId, status: await job.getState() });
    return reply.code(404).send({ error: `no job ${jobId}` });
  });
  app.get('/v1/batches/:id', async (req, reply) => {
    const batchId = id(req);
    const counters = await store.batch(batchId);
    if (!counters) return reply.code(404).send({ error: `no batch ${batchId}` });
    return counters;
  });
  app.get('/v1/batches/:id/results', async (req, reply) => {
    const batchId = id(req);
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
