import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import type { Logger } from '../log.js';
import { BATCH_PAGE, batchIdPages } from './batch-members.js';
import { type QueuedJob, QueuedJobSchema, type StoredJob, storedJob } from './jobs.js';
import { type RetryFailedOptions, retryIds } from './retry-options.js';
import { RetryScripts, type RetryScriptsDeps, retryClaimValue } from './retry-scripts.js';

/** What a retry on purpose did with a batch's jobs. */
export interface RetryFailedResult {
  batchId: string;
  /** Jobs whose failed result was superseded and that are queued again under the same id. */
  retried: number;
  /** Jobs that have a completed result: left alone. */
  completed: number;
  /** Jobs still queued or running (no result yet): left alone. */
  pending: number;
  /** Jobs another retry is re-enqueueing right now, or whose job could not be replaced yet (a part of it still runs): retry again later. */
  busy: string[];
  /** Failed jobs the queue no longer keeps (after `keepFailedSeconds`): their payload is gone, so they cannot be retried; enqueue them under a new id. */
  expired: string[];
  /** Jobs counted in the batch with neither a result nor a queued job: enqueue the batch's input again to add them. */
  missing: string[];
  /** `ids` that are not jobs of this batch. */
  unknown: string[];
}

/** What a retry uses: the producer's connection, keys, queue and job options. */
export interface RetryDeps extends RetryScriptsDeps {
  queue: Queue<StoredJob>;
  /** BullMQ options of a job, as the producer adds it. */
  jobOptions: (job: QueuedJob) => JobsOptions;
  logger: Logger;
}

/**
 * Re-enqueues failed jobs of a batch under the same ids (`docs/failure-modes.md`): their failed
 * results are superseded and the batch reopens, and each retried job carries a new generation
 * so a late result of the attempt that failed can never be counted. Safe to run twice at once:
 * an id is retried by one call only. Safe to stop anywhere (the process killed): a failed result
 * goes only once its new job is queued, so a job is never without both, and the next retry
 * takes up what this one left (the steps: `./retry-scripts.ts`).
 */
export class FailedRetries {
  private readonly scripts: RetryScripts;

  constructor(private readonly deps: RetryDeps) {
    this.scripts = new RetryScripts(deps);
  }

  /**
   * Retries the failed jobs of `batchId` (those in `ids` only, when given).
   * @throws JobValidationError naming `ids[i]` for an id that breaks the id rule.
   */
  async retry(batchId: string, options: RetryFailedOptions = {}): Promise<RetryFailedResult> {
    const ids = retryIds(options);
    const out: RetryFailedResult = {
      batchId,
      retried: 0,
      completed: 0,
      pending: 0,
      busy: [],
      expired: [],
      missing: [],
      unknown: [],
    };
    const token = randomUUID();
    // An id SSCAN returns twice, or given twice, is decided once.
    const seen = new Set<string>();
    for await (const page of this.pages(batchId, ids)) {
      const fresh = page.filter((id) => !seen.has(id));
      for (const id of fresh) seen.add(id);
      if (fresh.length > 0) await this.retryPage(batchId, fresh, token, out);
    }
    this.deps.logger.info(
      {
        batchId,
        retried: out.retried,
        busy: out.busy.length,
        expired: out.expired.length,
        missing: out.missing.length,
      },
      'failed jobs retried',
    );
    return out;
  }

  /** The ids to decide, a page at a time: the given ones, or every id of the batch. */
  private async *pages(batchId: string, ids: readonly string[] | undefined): AsyncGenerator<string[]> {
    if (ids) {
      for (let i = 0; i < ids.length; i += BATCH_PAGE) yield ids.slice(i, i + BATCH_PAGE);
      return;
    }
    yield* batchIdPages(this.deps.redis, this.deps.keys, batchId);
  }

  private async retryPage(batchId: string, ids: string[], token: string, out: RetryFailedResult) {
    const { keys, queue, redis } = this.deps;
    const claimValue = retryClaimValue(token, batchId);
    const codes = await this.scripts.decide(batchId, ids, token);
    const claimed: string[] = [];
    const toReplace: string[] = [];
    const toRestore: string[] = [];
    ids.forEach((id, i) => {
      const code = codes[i];
      if (code === 'retry' || code === 'restore') {
        claimed.push(id);
        (code === 'retry' ? toReplace : toRestore).push(id);
      } else if (code === 'resumed') out.retried++;
      else if (code === 'completed' || code === 'pending') out[code]++;
      else if (code) out[code].push(id);
    });

    // The payload comes from the failed job itself; set aside before that job is removed.
    const payloads = new Map<string, { job: QueuedJob; aside: string }>();
    for (const id of toReplace) {
      const data = QueuedJobSchema.safeParse((await queue.getJob(id))?.data);
      if (data.success) payloads.set(id, { job: data.data, aside: JSON.stringify(storedJob(data.data)) });
      else out.expired.push(id);
    }
    for (const id of toRestore) {
      const data = QueuedJobSchema.safeParse(parseJson(await redis.get(keys.retrying(id))));
      if (data.success) payloads.set(id, { job: data.data, aside: '' });
      else out.expired.push(id);
    }
    const gens = await this.scripts.commit(batchId, claimValue, payloads);

    const adds: { name: string; data: StoredJob; opts: JobsOptions }[] = [];
    for (const [id, { job, aside }] of payloads) {
      const retry = gens.get(id) ?? 0;
      // 0: another retry took the id over after this one's claim ran out.
      if (retry === 0) out.busy.push(id);
      // 0: a part of a split document is still running (locked); a later retry picks it up.
      else if (aside !== '' && (await queue.remove(id, { removeChildren: true })) === 0) out.busy.push(id);
      else {
        const next: QueuedJob = { ...job, retry };
        adds.push({ name: next.task, data: storedJob(next), opts: this.deps.jobOptions(next) });
      }
    }
    if (adds.length > 0) await queue.addBulk(adds);
    out.retried += adds.length;

    const queuedWith = new Map<string, number>(claimed.map((id) => [id, 0]));
    for (const { data } of adds) queuedWith.set(data.id, data.retry ?? 0);
    await this.scripts.settle(claimValue, queuedWith);
  }
}

/** JSON text as a value; undefined when absent or not JSON, which the job schema then refuses. */
function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
