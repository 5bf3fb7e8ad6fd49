import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import type { QueuedJob } from '../queue/jobs.js';
import { createProducer } from '../queue/producer.js';
import { isJobValidationError } from '../queue/validation.js';
import { keysFor } from '../redis/keys.js';
import { readFleetState } from '../resilience/fleet-view.js';
import { ResultStore } from '../results/store.js';
import { requireToken } from './auth.js';
import { strictJsonBodies } from './body.js';
import { createMetrics } from './metrics.js';
import { batchRoutes } from './routes/batches.js';
import type { ApiContext } from './routes/context.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';

export interface ApiOptions {
  config: Config;
  logger?: Logger;
}

export interface RunningApi {
  app: FastifyInstance;
  /** Stops listening and closes every connection it opened. Idempotent. */
  close(): Promise<void>;
}

/** Routes that answer without a token; every other route, matched or not, needs it. */
const PUBLIC_ROUTES = ['/healthz'];

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
  const metrics = createMetrics({ queue, redis, keys, fleet: () => readFleetState(redis, config, catalog) });
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

  const ctx: ApiContext = {
    config,
    ...(options.logger ? { logger: options.logger } : {}),
    keys,
    redis,
    producer,
    store,
    queue,
    catalog,
  };
  jobRoutes(app, ctx);
  batchRoutes(app, ctx);
  modelRoutes(app, ctx);

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
