import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import type { ModelCatalog } from '../models/catalog.js';
import type { BatchOptions } from '../queue/batch-options.js';
import { type Job, parseJob } from '../queue/jobs.js';
import type { Producer } from '../queue/producer.js';
import { isJobValidationError, JobValidationError } from '../queue/validation.js';
import { BodyError, parseJsonText } from './body.js';
import { type Line, LineError } from './ndjson.js';

/** How a stream is enqueued. */
export interface StreamOptions {
  /** The batch every line joins; default the first line's `batchId`, else a new uuid. */
  batchId?: string;
  /** The batch's callback and lane, given with every round. */
  callback?: Pick<BatchOptions, 'callbackUrl' | 'callbackOn' | 'lane' | 'deadline'>;
  /** Jobs per enqueue round (`api.ndjsonChunkJobs`). */
  chunkJobs: number;
  /** Text per enqueue round, so a chunk of long documents stays bounded too. */
  chunkBytes: number;
}

/** What the stream added (before a refused line: those jobs stay enqueued). */
export interface Accepted {
  /** Jobs added to the batch. */
  enqueued: number;
  /** Jobs whose id was already known, not added again. */
  duplicates: number;
}

/** How a stream ended: every line in (`ok`), or a refused line and what went in before it. */
export type StreamOutcome =
  | ({ ok: true; batchId: string } & Accepted)
  | {
      ok: false;
      status: number;
      error: string;
      /** The refused line, when one was (not for an empty body). */
      line?: number;
      /** The field of the refused line that is wrong, e.g. `job.params.temperature`. */
      field?: string;
      batchId: string | undefined;
      accepted: Accepted;
    };

/** What enqueueing a stream uses: the API's producer, and what checking a job needs. */
export interface StreamDeps {
  producer: Producer;
  catalog: ModelCatalog;
  config: Config;
}

/**
 * Enqueues an NDJSON batch as its lines arrive: each line is checked as it comes (naming its
 * number when it is refused), and every `chunkJobs` jobs are enqueued in one round, so memory
 * holds one chunk however long the body is.
 *
 * A refused line stops the stream: the lines before it are enqueued (none is dropped), the
 * ones from it on are not, and the outcome says how many went in. The batch then stays open,
 * for the client to send the rest under the same batch id. A body that ends normally closes
 * the batch; an empty one closes a batch that exists (`docs/http-api.md`).
 */
export async function enqueueStream(
  lines: AsyncIterable<Line>,
  deps: StreamDeps,
  options: StreamOptions,
): Promise<StreamOutcome> {
  const accepted: Accepted = { enqueued: 0, duplicates: 0 };
  let batchId = options.batchId;
  let chunk: Job[] = [];
  let chunkBytes = 0;

  // Each round joins the batch and leaves it open; the batch is sealed after the last round.
  const flush = async (id: string): Promise<void> => {
    if (chunk.length === 0) return;
    const result = await deps.producer.enqueueBatch(chunk, { batchId: id, open: true, ...options.callback });
    accepted.enqueued += result.enqueued;
    accepted.duplicates += result.duplicates;
    chunk = [];
    chunkBytes = 0;
  };
  const seal = async (id: string): Promise<void> => {
    await deps.producer.sealBatch(id);
  };

  let current = 0;
  let read = 0;
  // Whether an error now is the line's fault (and not, say, Redis's while a chunk goes in).
  let inLine = false;
  try {
    for await (const line of lines) {
      current = line.number;
      inLine = true;
      const job = parseJob(parseJsonText(line.text, `line ${line.number}`), {
        catalog: deps.catalog,
        config: deps.config,
        path: 'job',
      });
      batchId ??= job.batchId ?? randomUUID();
      if (job.batchId !== undefined && job.batchId !== batchId) {
        throw new JobValidationError([
          {
            path: 'job.batchId',
            message: `is "${job.batchId}" but this request enqueues batch "${batchId}"`,
          },
        ]);
      }
      inLine = false;
      read++;
      chunk.push(job);
      chunkBytes += line.bytes;
      if (chunk.length >= options.chunkJobs || chunkBytes >= options.chunkBytes) await flush(batchId);
    }
  } catch (e) {
    const refused = e instanceof LineError || inLine ? refusal(e, current) : undefined;
    if (!refused) throw e;
    if (batchId !== undefined) await flush(batchId);
    return { ok: false, ...refused, batchId, accepted };
  }
  // An empty body only closes a batch that exists (after an earlier request was refused part-way).
  if (batchId === undefined || (read === 0 && !(await deps.producer.getBatch(batchId)))) {
    return {
      ok: false,
      status: 400,
      error: 'body: holds no job (send one JSON job per line; an empty body only closes a batch that exists)',
      batchId,
      accepted,
    };
  }
  await flush(batchId);
  await seal(batchId);
  return { ok: true, batchId, ...accepted };
}

/** A refused line as status, message, line and field; undefined for errors that are not the input's. */
function refusal(
  e: unknown,
  current: number,
): { status: number; error: string; line: number; field?: string } | undefined {
  if (e instanceof LineError) return { status: e.statusCode, error: e.message, line: e.line };
  if (isJobValidationError(e)) {
    return {
      status: e.tooLarge ? 413 : 400,
      error: `line ${current}: ${e.message}`,
      line: current,
      field: e.path,
    };
  }
  if (e instanceof BodyError) return { status: e.statusCode, error: e.message, line: current };
  return undefined;
}
