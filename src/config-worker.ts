import { z } from 'zod';
import { HOUR, MINUTE, SECOND } from './units.js';

/**
 * The `worker:` section: how one worker process takes, runs and gives up jobs, and where it
 * serves its metrics.
 */
export const WorkerSettingsSchema = z
  .object({
    concurrency: z.number().int().positive().default(16).describe('jobs processed at once per worker'),
    shutdownTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30 * SECOND)
      .describe('grace for active jobs on SIGTERM'),
    jobAttempts: z
      .number()
      .int()
      .positive()
      .default(5)
      .describe('BullMQ attempts for infrastructure failures'),
    busyBackoffMs: z
      .number()
      .int()
      .positive()
      .default(SECOND)
      .describe('queue pause when every model is busy'),
    preflight: z
      .boolean()
      .default(true)
      .describe(
        'at start, ask the Bedrock control plane which chain models the account may use; chains skip the others without a call',
      ),
    preflightRefreshMs: z
      .number()
      .int()
      .positive()
      .default(10 * MINUTE)
      .describe('how often a running worker asks again, so a model enabled later is used again'),
    sharedBreakers: z
      .boolean()
      .default(true)
      .describe('share breaker state through Redis: a model one worker finds dead is left alone by all'),
    breakerRefreshMs: z
      .number()
      .int()
      .positive()
      .default(500)
      .describe('how long a worker trusts the fleet breaker state it read before reading it again'),
    lockDurationMs: z
      .number()
      .int()
      .min(SECOND)
      .default(10 * SECOND)
      .describe('a job whose worker stops renewing its lock this long is stalled (renewed every half of it)'),
    stalledIntervalMs: z
      .number()
      .int()
      .positive()
      .default(5 * SECOND)
      .describe(
        "how often workers look for stalled jobs: a crashed worker's jobs run again within lockDurationMs + this",
      ),
    maxStalledCount: z
      .number()
      .int()
      .nonnegative()
      .default(2)
      .describe(
        'stalls a job survives (worker crashes while it ran) before it fails with a result saying so',
      ),
    metricsPort: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .optional()
      .describe(
        "serve this worker's Prometheus metrics at GET /metrics on this port (0: any free one); off when unset",
      ),
    metricsHost: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe("address the worker's metrics port listens on; 0.0.0.0 for a scraper on another host"),
  })
  .strict();

/**
 * The `stats:` section: the fleet-wide 10 s windows of model calls and finished jobs that
 * workers keep in Redis.
 */
export const StatsSettingsSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('workers add their model calls and finished jobs to fleet-wide 10 s windows in Redis'),
    flushMs: z
      .number()
      .int()
      .positive()
      .default(SECOND)
      .describe('how often a worker writes its counts to the fleet windows (one pipeline per flush)'),
    retentionSeconds: z
      .number()
      .int()
      .min(60)
      .default(HOUR / SECOND)
      .describe(
        'how long a fleet window stays in Redis after its last write; a longer span sees only what is kept',
      ),
  })
  .strict();
