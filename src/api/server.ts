import cookie from '@fastify/cookie';
import { Queue } from 'bullmq';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { type Clock, monotonicClock } from '../clock.js';
import type { Config } from '../config.js';
import { type Logger, silentLogger } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { MAX_ID_LENGTH } from '../queue/ids.js';
import type { QueuedJob } from '../queue/jobs.js';
import { createProducer } from '../queue/producer.js';
import { isJobValidationError } from '../queue/validation.js';
import { ensureSafeRedis, RedisSetupError } from '../redis/checks.js';
import { connectRedis, type RedisClient } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { readFleetState } from '../resilience/fleet-view.js';
import { ResultStore } from '../results/store.js';
import { SECOND } from '../units.js';
import { type Door, requireScopes, scopeRoutesUnder } from './auth.js';
import { FailedAuthLimit } from './auth-limit.js';
import { formBodies, strictJsonBodies } from './body.js';
import { mountBullBoard } from './bull-board.js';
import { clientAddress, proxyTrust } from './client-address.js';
import { registerDocs } from './docs.js';
import { checkHealth, HealthSchema } from './health.js';
import { createMetrics } from './metrics.js';
import { ResultsTail } from './results-tail.js';
import { batchListRoutes } from './routes/batch-list.js';
import { batchRoutes } from './routes/batches.js';
import type { ApiContext } from './routes/context.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { retryRoutes } from './routes/retry.js';
import { sessionRoutes } from './routes/session.js';
import { Sessions } from './session.js';
import { TokenTable } from './tokens.js';

export interface ApiOptions {
  config: Config;
  logger?: Logger;
  /**
   * Where session expiry and the failed-authentication limit read the time; the real clock
   * (Redis's, for the limit's windows) by default. Tests pass a ManualClock.
   */
  clock?: Clock;
}

/** Where the dashboard mounts bull-board. */
export const BULL_BOARD_PREFIX = '/ui/queues';

const HealthDoc = {
  summary: 'Health: 200 when Redis answers and will not evict keys, else 503 with the problem',
  response: {
    200: HealthSchema.extend({ ok: z.literal(true), redis: z.literal('up') }),
    503: HealthSchema.extend({ ok: z.literal(false), problem: z.string() }),
  },
};

const MetricsDoc = {
  summary: 'Prometheus metrics (text exposition format)',
  response: {
    200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } },
  },
};

/** Why the router refused a path, by Fastify's error code. */
function pathRefusal(code: string): string {
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return `path: a part of it is longer than any id can be (ids are at most ${MAX_ID_LENGTH} characters)`;
  }
  if (code === 'FST_ERR_BAD_URL') return 'path: is not valid percent-encoded UTF-8';
  return 'path: is not valid';
}

export interface RunningApi {
  app: FastifyInstance;
  /** Clients following a batch on `GET /v1/batches/:id/events` now. */
  eventClients(): number;
  /** Stops listening and closes every connection it opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * Refuses a Redis that may evict keys or refuses our login, warns about one without
 * persistence. A Redis that does not answer yet is not a reason to refuse: `/healthz` says so
 * until it does.
 * @throws RedisSetupError
 */
async function checkRedis(redis: RedisClient, logger: Logger | undefined): Promise<void> {
  try {
    await ensureSafeRedis(redis, logger ?? silentLogger, { persistence: true });
  } catch (err) {
    if (err instanceof RedisSetupError) {
      redis.disconnect();
      throw err;
    }
    logger?.warn({ err }, 'could not check the Redis settings at start');
  }
}

/**
 * The HTTP API (README.md, "HTTP API"): enqueue jobs and batches, read results and
 * batch progress, the model catalog with quotas, the dashboard at `/ui` (bull-board under it), Prometheus metrics, a health check, browser
 * sessions and the OpenAPI document. Every route declares the scope it needs
 * (`config: { scope }`, `auth.ts`); one that declares none needs `admin`.
 *
 * Route schemas are zod schemas, for the OpenAPI document (`docs.ts`) only: every handler
 * parses its own input with them (or the producer does), so refusals name the field in our
 * words, as the CLI's do. Fastify is told not to validate or serialize by them.
 */
export async function buildApi(options: ApiOptions): Promise<RunningApi> {
  const { config } = options;
  const keys = keysFor(config.prefix);
  const redis = connectRedis(config.redisUrl, config.redis, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => options.logger?.error({ err }, 'redis connection error'));
  await checkRedis(redis, options.logger);
  const producer = createProducer({ redis, config, ...(options.logger ? { logger: options.logger } : {}) });
  const store = new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds });
  const queue = new Queue<QueuedJob>(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
  // Without a listener BullMQ prints the error whole, with the arguments of a failed AUTH.
  queue.on('error', (err) => options.logger?.error({ err }, 'queue error'));
  const catalog = ModelCatalog.of(config);
  const metrics = createMetrics({ queue, redis, keys, fleet: () => readFleetState(redis, config, catalog) });
  const tokens = new TokenTable(config);
  const sessions = new Sessions(tokens, {
    ttlSeconds: config.api.sessionTtlSeconds,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const limit = new FailedAuthLimit({
    redis,
    keys,
    limit: config.api.failedAuthLimit,
    windowMs: config.api.failedAuthWindowSeconds * SECOND,
    localClock: options.clock ?? monotonicClock,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger.child({ component: 'api-auth' }) } : {}),
  });
  const trust = proxyTrust(config.api.trustProxy);
  // Set once the hooks are in place; a path the router refused is checked with it first.
  let door: Door | undefined;
  const app = Fastify({
    logger: false,
    ...(trust ? { trustProxy: trust } : {}),
    bodyLimit: config.api.bodyLimitBytes,
    // Every id the id rule accepts fits a path parameter: 200 code points are up to 400 UTF-16
    // units once decoded, which is what the router measures (its default, 100, cut longer ids off).
    routerOptions: { maxParamLength: 2 * MAX_ID_LENGTH },
    // A path part longer than that, or not percent-encoded UTF-8, reaches no route and no
    // hook. Like any path that matches no route it needs a token first (the caller without one
    // learns nothing about routing, and a wrong one counts against the failed-authentication
    // limit); then it is refused in our words, without echoing the path back.
    frameworkErrors: (error, req, reply) => {
      const from = {
        cookies: app.parseCookie(req.headers.cookie ?? ''),
        ip: clientAddress(req.raw, trust),
      };
      void (door?.(req, reply, 'read', from) ?? Promise.resolve(false)).then(
        (answered) => {
          if (!answered) (reply as FastifyReply).code(400).send({ error: pathRefusal(error.code) });
        },
        (err: unknown) => {
          options.logger?.error({ err }, 'api request failed');
          (reply as FastifyReply).code(500).send({ error: 'internal error' });
        },
      );
    },
  });
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  strictJsonBodies(app);
  formBodies(app);
  // Cookies are parsed in an onRequest hook that must run before the one that checks them.
  await app.register(cookie);
  door = requireScopes(app, {
    tokens,
    sessions,
    limit,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // bull-board, mounted here by the dashboard: looking is reading, any action is admin's.
  scopeRoutesUnder(app, BULL_BOARD_PREFIX, (method) =>
    method === 'GET' || method === 'HEAD' ? 'read' : 'admin',
  );
  await mountBullBoard(app, queue, BULL_BOARD_PREFIX);
  await registerDocs(app, { publicDocs: config.api.publicDocs });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (isJobValidationError(error))
      return reply.code(error.tooLarge ? 413 : 400).send({ error: error.message });
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({
        error: `body: ${req.headers['content-type'] ?? 'a body without a Content-Type'} is not accepted here; send application/json (NDJSON batches go to POST /v1/batches)`,
      });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        error: `body: larger than ${config.api.bodyLimitBytes} bytes (api.bodyLimitBytes); stream the batch as application/x-ndjson, or send it in several requests`,
      });
    }
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) options.logger?.error({ err: error }, 'api request failed');
    return reply.code(status).send({ error: status === 500 ? 'internal error' : error.message });
  });
  app.get('/healthz', { config: { scope: 'public' }, schema: HealthDoc }, async (_req, reply) => {
    const health = await checkHealth(redis);
    return reply.code(health.ok ? 200 : 503).send(health);
  });
  app.get(
    '/metrics',
    { config: { scope: config.api.publicMetrics ? 'public' : 'read' }, schema: MetricsDoc },
    async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );

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
  batchListRoutes(app, ctx);
  retryRoutes(app, ctx);
  modelRoutes(app, ctx);
  sessionRoutes(app, { ...ctx, tokens, sessions, limit });
  // One reader of the results stream for every event-stream client of this process.
  const tail = new ResultsTail(redis, keys.results, options.logger);
  eventRoutes(app, ctx, tail);
  dashboardRoutes(app, ctx);

  let closing: Promise<void> | undefined;
  return {
    app,
    eventClients: () => tail.size,
    close() {
      closing ??= (async () => {
        for (const step of [
          // Event streams never end on their own: end them first, or the server would wait for them.
          () => tail.close(),
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
