import type { Config } from '../config.js';
import { ModelCatalog } from '../models/catalog.js';
import { BatchClosedError } from '../queue/batch-closed.js';
import type { BatchOptions } from '../queue/batch-options.js';
import { parseJob } from '../queue/jobs.js';
import type { Producer } from '../queue/producer.js';
import { isJobValidationError, JobValidationError } from '../queue/validation.js';
import { CliError } from './context.js';
import { type InputJob, readJobs } from './input.js';

/** Jobs per enqueue call. */
const SLICE = 500;

/** What one `enqueue SOURCE` adds, and how. */
export interface SourceOptions {
  batchId: string;
  callback: Pick<BatchOptions, 'callbackUrl' | 'callbackOn'>;
  /** `--task`, `--chain`: given to jobs that name none. */
  task?: string;
  chain?: string;
}

/** How many jobs of the input the batch took (`duplicates`: their ids were known already). */
export interface SourceOutcome {
  enqueued: number;
  duplicates: number;
}

/**
 * Checks one job as the producer will (fields, models) and that it names no other batch.
 * @throws JobValidationError naming where in the input (`line 7.params.temperature: …`).
 */
function checkJob(input: InputJob, batchId: string, catalog: ModelCatalog, config: Config): void {
  const job = parseJob(input.job, { catalog, config, path: input.where });
  if (job.batchId !== undefined && job.batchId !== batchId) {
    throw new JobValidationError([
      {
        path: `${input.where}.batchId`,
        message: `is "${job.batchId}" but this enqueue is batch "${batchId}"`,
      },
    ]);
  }
}

/**
 * Enqueues a JSONL file, a directory or standard input (`-`) into one batch, `SLICE` jobs per
 * call, and seals the batch once every job is in.
 *
 * A file or directory can be read twice, so every job is checked first and bad input enqueues
 * nothing. Standard input is read once: each line is checked as it comes, and at the first bad
 * one the good lines before it are enqueued and the error says exactly which went in (the
 * batch stays open for the rest).
 * @throws CliError naming the input, line and field.
 */
export async function enqueueSource(
  source: string,
  producer: Producer,
  config: Config,
  options: SourceOptions,
): Promise<SourceOutcome> {
  const { batchId } = options;
  const catalog = ModelCatalog.of(config);
  const withDefaults = (input: InputJob): InputJob => {
    const { job } = input;
    if (options.task && job.task === undefined) job.task = options.task;
    if (options.chain && job.chain === undefined && job.models === undefined) job.chain = options.chain;
    return input;
  };
  const outcome: SourceOutcome = { enqueued: 0, duplicates: 0 };
  let slice: Record<string, unknown>[] = [];
  const flush = async () => {
    if (slice.length === 0) return;
    try {
      // Open until every slice is in: the batch cannot be done between two of them.
      const r = await producer.enqueueBatch(slice as never, { batchId, open: true, ...options.callback });
      outcome.enqueued += r.enqueued;
      outcome.duplicates += r.duplicates;
    } catch (e) {
      if (e instanceof BatchClosedError) throw new CliError(`--batch: ${e.message}`);
      throw e;
    }
    slice = [];
  };

  let read = 0;
  if (source !== '-') {
    for await (const input of readJobs(source, batchId)) {
      try {
        checkJob(withDefaults(input), batchId, catalog, config);
        read++;
      } catch (e) {
        if (isJobValidationError(e)) throw new CliError(`${source}: ${e.message} (nothing was enqueued)`);
        throw e;
      }
    }
    for await (const { job } of readJobs(source, batchId)) {
      slice.push(job);
      if (slice.length >= SLICE) await flush();
    }
  } else {
    try {
      for await (const input of readJobs(source, batchId)) {
        checkJob(withDefaults(input), batchId, catalog, config);
        read++;
        slice.push(input.job);
        if (slice.length >= SLICE) await flush();
      }
    } catch (e) {
      const message =
        e instanceof CliError ? e.message : isJobValidationError(e) ? `stdin ${e.message}` : undefined;
      if (message === undefined) throw e;
      // Every job before the bad line was checked: it goes in, and the error says so.
      await flush();
      throw new CliError(`${message} ${stopped(read, outcome, batchId)}`);
    }
  }
  // No job at all is a mistake, unless it closes a batch an earlier, stopped enqueue left open.
  if (read === 0 && !(await producer.getBatch(batchId))) {
    throw new CliError(
      `${source === '-' ? 'stdin' : source}: holds no job (one JSON object per line; an empty input only closes a batch that exists, given with --batch)`,
    );
  }
  await flush();
  await producer.sealBatch(batchId);
  return outcome;
}

/** What a stop at a bad line of standard input left in the batch. */
function stopped(read: number, outcome: SourceOutcome, batchId: string): string {
  if (read === 0) return '(nothing was enqueued)';
  return `(the ${read} jobs before it are in batch ${batchId}: ${outcome.enqueued} enqueued, ${outcome.duplicates} already known; nothing from this line on was enqueued. The batch stays open: send the rest with --batch ${batchId})`;
}
