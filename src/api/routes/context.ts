import type { Queue } from 'bullmq';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import type { ModelCatalog } from '../../models/catalog.js';
import type { QueuedJob } from '../../queue/jobs.js';
import type { Producer } from '../../queue/producer.js';
import type { RedisClient } from '../../redis/connect.js';
import type { Keys } from '../../redis/keys.js';
import type { ResultStore } from '../../results/store.js';
import { BodyError } from '../body.js';

/** What every route module is given: the API's one set of connections and its config. */
export interface ApiContext {
  config: Config;
  logger?: Logger;
  keys: Keys;
  redis: RedisClient;
  producer: Producer;
  store: ResultStore;
  queue: Queue<QueuedJob>;
  catalog: ModelCatalog;
}

export function badRequest(message: string): Error {
  return new BodyError(message, 400);
}

/** Reads the `:id` route parameter with the same rule that ids are enqueued under. */
export function idParam(req: FastifyRequest, schema: z.ZodType<string>, what: string): string {
  const raw = (req.params as { id?: unknown }).id;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(`${what}: ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  return parsed.data;
}
