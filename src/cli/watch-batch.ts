import type { Config } from '../config.js';
import { batchStatus } from '../queue/batch-status.js';
import { isBatchWaitTimeout } from '../queue/batch-wait.js';
import type { Producer } from '../queue/producer.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { noLanes } from '../results/batch-state.js';
import type { BatchCounters } from '../results/record.js';
import { ResultStore } from '../results/store.js';
import { BatchTallier } from '../results/tally.js';
import type { CliContext } from './context.js';
import { createProgress, type ProgressView } from './progress.js';
import { followFleet } from './view-feeds.js';
import { notFinishedError } from './wait-timeout.js';

/** How {@link watchBatch} shows a batch. */
export interface WatchOptions {
  /** The view to draw on, which the caller then stops; by default one on stdout, stopped here. */
  view?: ProgressView;
  /** Called with every change of the counters, before the view shows it. */
  onCounters?: (c: BatchCounters) => void;
  /** Breaker transitions of the fleet, read from Redis, as notices above the bar (default: on a terminal). */
  fleetNotices?: boolean;
  /** Where the batch lives (Redis and prefix) when not the command's own config (the demo's). */
  config?: Config;
  /** Give up after this long, exiting {@link EXIT_NOT_FINISHED} with the batch's counters; the jobs stay queued. */
  timeout?: { ms: number; text: string };
}

/**
 * Waits for a batch with a progress view; returns the final counters. On a terminal the
 * fleet's breakers are read every second, so a model that goes down or comes back is said
 * above the bar even while no job finishes.
 * @throws CliError (exit {@link EXIT_NOT_FINISHED}) naming what is unfinished when `timeout` passes first.
 */
export async function watchBatch(
  ctx: CliContext,
  producer: Producer,
  batchId: string,
  options: WatchOptions = {},
): Promise<BatchCounters> {
  const config = options.config ?? ctx.config();
  const redis = connectRedis(config.redisUrl, config.redis);
  const keys = keysFor(config.prefix);
  const tallier = new BatchTallier(
    redis,
    new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds }),
    keys,
    batchId,
  );
  const view = options.view ?? createProgress({ json: ctx.json(), tty: process.stdout.isTTY === true });
  const stopFleet =
    (options.fleetNotices ?? view.live)
      ? followFleet(redis, config, (line) => view.notice(line))
      : async () => {};
  let latest: BatchCounters | undefined;
  let refreshing: Promise<unknown> = Promise.resolve();
  try {
    const final = await producer.waitForBatch(batchId, {
      pollMs: 1_000,
      ...(options.timeout ? { timeoutMs: options.timeout.ms } : {}),
      onProgress: (c) => {
        latest = c;
        options.onCounters?.(c);
        refreshing = refreshing
          .then(() => tallier.refresh())
          .then((t) => latest && view.update(latest, t.perModel));
      },
    });
    await refreshing;
    view.update(final, (await tallier.refresh()).perModel);
    return final;
  } catch (e) {
    if (!isBatchWaitTimeout(e) || !options.timeout) throw e;
    await refreshing.catch(() => undefined);
    throw await notFinished(redis, config, batchId, options.timeout.text);
  } finally {
    await stopFleet();
    if (!options.view) view.stop();
    await redis.quit();
  }
}

/** The timeout's error, with the batch's waiting and running jobs read from the queue. */
async function notFinished(
  redis: ReturnType<typeof connectRedis>,
  config: Config,
  batchId: string,
  after: string,
) {
  const keys = keysFor(config.prefix);
  const store = new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds });
  const status = await batchStatus(redis, keys, store, batchId);
  return notFinishedError(
    status ?? {
      batchId,
      total: 0,
      completed: 0,
      failed: 0,
      sealed: true,
      done: false,
      lanes: noLanes(),
      waiting: 0,
      active: 0,
      missing: 0,
    },
    after,
  );
}
