import { randomUUID } from 'node:crypto';
import { type Command, Option } from 'commander';
import { type Config, HOUR } from '../config.js';
import { ModelCatalog } from '../models/catalog.js';
import { BatchClosedError } from '../queue/batch-closed.js';
import { type BatchOptions, parseBatchOptions } from '../queue/batch-options.js';
import { BatchIdSchema } from '../queue/ids.js';
import { parseJob } from '../queue/jobs.js';
import { createProducer, type Producer } from '../queue/producer.js';
import { isJobValidationError } from '../queue/validation.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { CALLBACK_ON, LANES } from '../redis/names.js';
import type { BatchCounters } from '../results/record.js';
import { ResultStore } from '../results/store.js';
import { BatchTallier } from '../results/tally.js';
import { type CliContext, CliError } from './context.js';
import { readJobs } from './input.js';
import { createProgress, type ProgressView } from './progress.js';
import { followFleet } from './view-feeds.js';

const SLICE = 500;

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
}

/**
 * Waits for a batch with a progress view; returns the final counters. On a terminal the
 * fleet's breakers are read every second, so a model that goes down or comes back is said
 * above the bar even while no job finishes.
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
  } finally {
    await stopFleet();
    if (!options.view) view.stop();
    await redis.quit();
  }
}

interface EnqueueFlags {
  task?: string;
  chain?: string;
  batch?: string;
  wait?: boolean;
  callbackUrl?: string;
  callbackOn?: (typeof CALLBACK_ON)[number];
  lane?: (typeof LANES)[number];
  deadline?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('enqueue')
    .description(
      'enqueue jobs from a JSONL file, a directory of .txt/.md documents (one summarize job each), or - for stdin',
    )
    .argument('<source>', 'FILE.jsonl | DIR | -')
    .addOption(
      new Option('--task <task>', 'task for lines that name none').choices(['generate', 'summarize']),
    )
    .option('--chain <name>', 'chain for jobs that name no chain or models')
    .option(
      '--batch <id>',
      'batch id (default: a new uuid); enqueueing again into a batch adds up until it is done',
    )
    .option('--wait', 'wait until every job finished; exit 0 when all completed, 3 when some failed')
    .option(
      '--callback-url <url>',
      'POST a signed summary there when the batch is done (needs CALLBACK_SECRET)',
    )
    .addOption(
      new Option('--callback-on <when>', 'done, or failed-and-done: also once per failed job').choices(
        CALLBACK_ON,
      ),
    )
    .addOption(
      new Option(
        '--lane <lane>',
        'online, offline (Bedrock batch inference, about half the price, back within hours) or auto',
      )
        .choices(LANES)
        .default('online'),
    )
    .option(
      '--deadline <iso>',
      'offline/auto: jobs not back from the offline lane by then run online (default: offline.deadlineHours from now)',
    )
    .action(async (source: string, o: EnqueueFlags) => {
      const config = ctx.config();
      const lane = o.lane ?? 'online';
      // One deadline for every slice of the file.
      const deadline =
        o.deadline ??
        (lane === 'online'
          ? undefined
          : new Date(Date.now() + config.offline.deadlineHours * HOUR).toISOString());
      const callback: BatchOptions = {
        ...(o.callbackUrl !== undefined ? { callbackUrl: o.callbackUrl } : {}),
        ...(o.callbackOn !== undefined ? { callbackOn: o.callbackOn } : {}),
        lane,
        ...(deadline !== undefined ? { deadline } : {}),
      };
      try {
        parseBatchOptions(callback, config.callbacks);
      } catch (e) {
        if (!isJobValidationError(e)) throw e;
        const flag =
          e.path === 'callbackOn'
            ? '--callback-on'
            : e.path === 'deadline'
              ? '--deadline'
              : e.path === 'lane'
                ? '--lane'
                : '--callback-url';
        throw new CliError(`${flag}: ${e.issues[0]?.message ?? e.message}`);
      }
      if (o.chain && !config.chains[o.chain])
        throw new CliError(
          `--chain: unknown chain "${o.chain}"; configured chains: ${Object.keys(config.chains).join(', ')}`,
        );
      const batch = BatchIdSchema.safeParse(o.batch ?? randomUUID());
      if (!batch.success) throw new CliError(`--batch: ${batch.error.issues[0]?.message}`);
      const batchId = batch.data;
      const producer = createProducer({ redis: config.redisUrl, config, logger: ctx.logger() });
      let enqueued = 0;
      let duplicates = 0;
      try {
        let slice: Record<string, unknown>[] = [];
        let first = 0;
        const flush = async () => {
          if (slice.length === 0) return;
          try {
            // Open until every slice is in: the batch cannot be done between two of them.
            const r = await producer.enqueueBatch(slice as never, { batchId, open: true, ...callback });
            enqueued += r.enqueued;
            duplicates += r.duplicates;
          } catch (e) {
            if (e instanceof BatchClosedError) throw new CliError(`--batch: ${e.message}`);
            // Name the input position: jobs[i] of this slice is input job first + i.
            if (isJobValidationError(e))
              throw new CliError(
                `${e.message.replace(/jobs\[(\d+)\]/g, (_m, i: string) => `job ${first + Number(i) + 1}`)} (nothing from this slice was enqueued; ${enqueued} jobs before it were)`,
              );
            throw e;
          }
          first += slice.length;
          slice = [];
        };
        const withDefaults = (job: Record<string, unknown>) => {
          if (o.task && job.task === undefined) job.task = o.task;
          if (o.chain && job.chain === undefined && job.models === undefined) job.chain = o.chain;
          return job;
        };
        // A file can be read twice: check every job before enqueueing any, so bad input enqueues nothing.
        if (source !== '-') {
          const catalog = ModelCatalog.of(config);
          for await (const { where, job } of readJobs(source, batchId)) {
            try {
              parseJob(withDefaults(job), { catalog, config, path: where });
            } catch (e) {
              if (isJobValidationError(e))
                throw new CliError(`${source}: ${e.message} (nothing was enqueued)`);
              throw e;
            }
          }
        }
        try {
          for await (const { job } of readJobs(source, batchId)) {
            slice.push(withDefaults(job));
            if (slice.length >= SLICE) await flush();
          }
        } catch (e) {
          // Standard input is read once, so earlier slices are already in; say so.
          if (e instanceof CliError && enqueued + duplicates > 0)
            throw new CliError(
              `${e.message} (nothing after it was enqueued; the ${enqueued + duplicates} jobs before it are in batch ${batchId}: ${enqueued} enqueued, ${duplicates} already known; the batch stays open until it is enqueued again with --batch ${batchId})`,
            );
          throw e;
        }
        await flush();
        await producer.sealBatch(batchId);
        const summary = { batchId, enqueued, duplicates };
        if (ctx.json()) ctx.emit(summary);
        else ctx.out(`batch ${batchId}: ${enqueued} enqueued, ${duplicates} already known`);
        if (!o.wait) return;
        const final = await watchBatch(ctx, producer, batchId);
        if (ctx.json()) ctx.emit({ done: final });
        else
          ctx.out(`batch ${batchId}: ${final.completed} completed, ${final.failed} failed of ${final.total}`);
        if (final.failed > 0) process.exitCode = 3;
      } finally {
        await producer.close();
      }
    });
}
