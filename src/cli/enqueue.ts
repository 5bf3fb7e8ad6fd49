import { randomUUID } from 'node:crypto';
import { type Command, Option } from 'commander';
import type { Config } from '../config.js';
import { DurationSchema } from '../duration.js';
import { type BatchOptions, parseBatchOptions } from '../queue/batch-options.js';
import { BatchIdSchema } from '../queue/ids.js';
import { createProducer, type Producer } from '../queue/producer.js';
import { isJobValidationError } from '../queue/validation.js';
import { CALLBACK_ON, LANES } from '../redis/names.js';
import { HOUR } from '../units.js';
import { type CliContext, CliError } from './context.js';
import { enqueueSource } from './enqueue-source.js';
import { parseRetryFlags, retryFailedCommand } from './retry-failed.js';
import { EXIT_NOT_FINISHED } from './wait-timeout.js';
import { watchBatch } from './watch-batch.js';

interface EnqueueFlags {
  task?: string;
  chain?: string;
  batch?: string;
  wait?: boolean;
  timeout?: string;
  callbackUrl?: string;
  callbackOn?: (typeof CALLBACK_ON)[number];
  retryFailed?: string;
  ids?: string;
  lane?: (typeof LANES)[number];
  deadline?: string;
}

/** `--timeout`: only with `--wait`; a duration such as `10m`. */
function parseTimeout(o: EnqueueFlags): { ms: number; text: string } | undefined {
  if (o.timeout === undefined) return undefined;
  if (!o.wait) throw new CliError('--timeout: only with --wait');
  const ms = DurationSchema.safeParse(o.timeout);
  if (!ms.success) throw new CliError(`--timeout: ${ms.error.issues[0]?.message}`);
  return { ms: ms.data, text: o.timeout.trim() };
}

/** The callback and lane flags as batch options. @throws CliError naming the flag. */
function parseBatchFlags(o: EnqueueFlags, config: Pick<Config, 'callbacks' | 'offline'>): BatchOptions {
  const lane = o.lane ?? 'online';
  // One deadline for every slice of the file.
  const deadline =
    o.deadline ??
    (lane === 'online'
      ? undefined
      : new Date(Date.now() + config.offline.deadlineHours * HOUR).toISOString());
  const options: BatchOptions = {
    ...(o.callbackUrl !== undefined ? { callbackUrl: o.callbackUrl } : {}),
    ...(o.callbackOn !== undefined ? { callbackOn: o.callbackOn } : {}),
    lane,
    ...(deadline !== undefined ? { deadline } : {}),
  };
  try {
    parseBatchOptions(options, config.callbacks);
  } catch (e) {
    if (!isJobValidationError(e)) throw e;
    const flags: Record<string, string> = {
      callbackOn: '--callback-on',
      deadline: '--deadline',
      lane: '--lane',
    };
    const flag = flags[e.path ?? ''] ?? '--callback-url';
    throw new CliError(`${flag}: ${e.issues[0]?.message ?? e.message}`);
  }
  return options;
}

/**
 * `--wait`: follows the batch to its end and says how it ended; exit 3 when some jobs failed,
 * {@link EXIT_NOT_FINISHED} when `--timeout` passed first.
 */
async function waitAndReport(
  ctx: CliContext,
  producer: Producer,
  batchId: string,
  timeout: { ms: number; text: string } | undefined,
): Promise<void> {
  const final = await watchBatch(ctx, producer, batchId, timeout ? { timeout } : {});
  if (ctx.json()) ctx.emit({ done: final });
  else ctx.out(`batch ${batchId}: ${final.completed} completed, ${final.failed} failed of ${final.total}`);
  if (final.failed > 0) process.exitCode = 3;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('enqueue')
    .description(
      'enqueue jobs from a JSONL file, a directory of .txt/.md documents (one summarize job each), or - for stdin; or retry the failed jobs of a batch',
    )
    .argument('[source]', 'FILE.jsonl | DIR | - (none with --retry-failed)')
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
      '--timeout <duration>',
      `with --wait: stop waiting after this long (10m, 90s, 1h30m) and exit ${EXIT_NOT_FINISHED}, saying what is unfinished; the jobs stay queued`,
    )
    .option(
      '--callback-url <url>',
      'POST a signed summary there when the batch is done (needs CALLBACK_SECRET)',
    )
    .addOption(
      new Option('--callback-on <when>', 'done, or failed-and-done: also once per failed job').choices(
        CALLBACK_ON,
      ),
    )
    .option(
      '--retry-failed <batch>',
      'enqueue the failed jobs of a batch again under the same ids; the batch reopens and ends again',
    )
    .option('--ids <ids>', 'with --retry-failed: only these jobs (comma-separated ids)')
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
    .action(async (source: string | undefined, o: EnqueueFlags) => {
      const config = ctx.config();
      const timeout = parseTimeout(o);
      if (o.retryFailed !== undefined) {
        const clash = Object.entries({
          'FILE, DIR or -': source,
          '--batch': o.batch,
          '--task': o.task,
          '--chain': o.chain,
          '--callback-url': o.callbackUrl,
          '--callback-on': o.callbackOn,
          '--lane': o.lane === 'online' ? undefined : o.lane,
          '--deadline': o.deadline,
        }).find(([, given]) => given !== undefined)?.[0];
        if (clash)
          throw new CliError(`--retry-failed: retries the batch's own jobs, so it takes no ${clash}`);
        const flags = parseRetryFlags(o.retryFailed, o.ids);
        const producer = createProducer({ redis: config.redisUrl, config, logger: ctx.logger() });
        try {
          await retryFailedCommand(ctx, producer, flags);
          if (o.wait) await waitAndReport(ctx, producer, flags.batchId, timeout);
        } finally {
          await producer.close();
        }
        return;
      }
      if (source === undefined)
        throw new CliError('enqueue: give FILE.jsonl, DIR or - (stdin), or --retry-failed BATCH');
      if (o.ids !== undefined) throw new CliError('--ids: only with --retry-failed');
      const callback = parseBatchFlags(o, config);
      if (o.chain && !Object.hasOwn(config.chains, o.chain))
        throw new CliError(
          `--chain: unknown chain "${o.chain}"; configured chains: ${Object.keys(config.chains).join(', ')}`,
        );
      const batch = BatchIdSchema.safeParse(o.batch ?? randomUUID());
      if (!batch.success) throw new CliError(`--batch: ${batch.error.issues[0]?.message}`);
      const batchId = batch.data;
      const producer = createProducer({ redis: config.redisUrl, config, logger: ctx.logger() });
      try {
        const { enqueued, duplicates } = await enqueueSource(source, producer, config, {
          batchId,
          callback,
          ...(o.task ? { task: o.task } : {}),
          ...(o.chain ? { chain: o.chain } : {}),
        });
        if (ctx.json()) ctx.emit({ batchId, enqueued, duplicates });
        else ctx.out(`batch ${batchId}: ${enqueued} enqueued, ${duplicates} already known`);
        if (o.wait) await waitAndReport(ctx, producer, batchId, timeout);
      } finally {
        await producer.close();
      }
    });
}
