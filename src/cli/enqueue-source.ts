import type { Config } from '../config.js';
import { ModelCatalog } from '../models/catalog.js';
import { BatchClosedError } from '../queue/batch-closed.js';
import type { BatchOptions } from '../queue/batch-options.js';
import { parseJob } from '../queue/jobs.js';
import type { Producer } from '../queue/producer.js';
import { isJobValidationError } from '../queue/validation.js';
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
 * Enqueues a JSONL file, a directory or standard input (`-`) into one batch, `SLICE` jobs per
 * call, and seals the batch once every job is in. A file or directory can be read twice, so
 * every job is checked first and bad input enqueues nothing.
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
  let first = 0;
  const flush = async () => {
    if (slice.length === 0) return;
    try {
      // Open until every slice is in: the batch cannot be done between two of them.
      const r = await producer.enqueueBatch(slice as never, { batchId, open: true, ...options.callback });
      outcome.enqueued += r.enqueued;
      outcome.duplicates += r.duplicates;
    } catch (e) {
      if (e instanceof BatchClosedError) throw new CliError(`--batch: ${e.message}`);
      // Name the input position: jobs[i] of this slice is input job first + i.
      if (isJobValidationError(e))
        throw new CliError(
          `${e.message.replace(/jobs\[(\d+)\]/g, (_m, i: string) => `job ${first + Number(i) + 1}`)} (nothing from this slice was enqueued; ${outcome.enqueued} jobs before it were)`,
        );
      throw e;
    }
    first += slice.length;
    slice = [];
  };

  if (source !== '-') {
    for await (const input of readJobs(source, batchId)) {
      try {
        parseJob(withDefaults(input).job, { catalog, config, path: input.where });
      } catch (e) {
        if (isJobValidationError(e)) throw new CliError(`${source}: ${e.message} (nothing was enqueued)`);
        throw e;
      }
    }
  }
  try {
    for await (const input of readJobs(source, batchId)) {
      slice.push(withDefaults(input).job);
      if (slice.length >= SLICE) await flush();
    }
  } catch (e) {
    // Standard input is read once, so earlier slices are already in; say so.
    const { enqueued, duplicates } = outcome;
    if (e instanceof CliError && enqueued + duplicates > 0)
      throw new CliError(
        `${e.message} (nothing after it was enqueued; the ${enqueued + duplicates} jobs before it are in batch ${batchId}: ${enqueued} enqueued, ${duplicates} already known; the batch stays open until it is enqueued again with --batch ${batchId})`,
      );
    throw e;
  }
  await flush();
  await producer.sealBatch(batchId);
  return outcome;
}
