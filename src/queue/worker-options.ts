import { z } from 'zod';
import type { ModelClient } from '../bedrock/types.js';
import { type Clock, systemClock, systemRandom } from '../clock.js';
import type { Config } from '../config.js';
import { type Logger, silentLogger } from '../log.js';
import type { Random } from '../random.js';
import { SECOND } from '../units.js';
import { RetentionFields } from './retention.js';

/** How a worker process is started; settings of the fleet are in `config`. */
export const WorkerOptionsSchema = z
  .object({
    config: z.custom<Config>().describe('the loaded configuration'),
    // Factories: zod calls a function default, and would copy a plain object one.
    logger: z.custom<Logger>().default(() => silentLogger),
    concurrency: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('jobs processed at once; default config.worker.concurrency'),
    client: z
      .custom<ModelClient>()
      .optional()
      .describe(
        'replaces the Bedrock client (tests of the shell only; integration tests use the simulator); turns the preflight off',
      ),
    strict: z
      .boolean()
      .default(false)
      .describe('refuse to start when the preflight finds a chain none of whose models the account may use'),
    checkPersistence: z
      .boolean()
      .default(true)
      .describe('warn at start when Redis keeps nothing on disk (off for throwaway data, as in the demo)'),
    fleetRateLimits: z
      .boolean()
      .default(true)
      .describe('fleet-wide rate limits from config and catalog quotas'),
    clock: z
      .custom<Clock>()
      .default(() => systemClock)
      .describe(
        'breakers, backoff, call timeouts and the shutdown deadline; when given, the fleet limiter too (else Redis TIME)',
      ),
    rand: z
      .custom<Random>()
      .default(() => systemRandom)
      .describe('backoff jitter'),
    ...RetentionFields,
    keepCompletedCount: z.number().int().positive().default(10_000).describe('and at most this many'),
    keepFailedCount: z.number().int().positive().default(10_000).describe('and at most this many'),
    maxRateLimitDelayMs: z
      .number()
      .int()
      .positive()
      .default(30 * SECOND)
      .describe("longest queue pause BullMQ's rate limit may ask for"),
  })
  .strict();
/** Options of `startWorker`; only `config` is required. */
export type WorkerOptions = z.input<typeof WorkerOptionsSchema>;
