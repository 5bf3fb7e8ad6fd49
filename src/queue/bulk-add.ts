import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { BatchClosedError } from './batch-closed.js';
import type { ClaimCode, ClaimRequest, Claims } from './claim.js';
import { type StoredJob, storedJob } from './jobs.js';
import type { OfflineTarget } from './offline-handoff.js';
import type { PreparedJob } from './prepare-jobs.js';
import { bullJobOptions, type ParsedProducerOptions } from './producer-options.js';

/**
 * Where an id that was not enqueued again already is. `enqueuing`: an enqueue of another batch
 * claimed the id moments ago and has not handed it to BullMQ yet (or died doing so; the claim
 * lapses after `claimTtlSeconds`).
 */
export type ExistingState = 'queued' | 'delayed' | 'active' | 'completed' | 'failed' | 'enqueuing';

export type EnqueueResult =
  | { id: string; status: 'enqueued' }
  | { id: string; status: 'duplicate'; existing: ExistingState };

/** Where the jobs of one call go: no batch, or a batch with its callback and its offline part. */
export interface AddTarget {
  batchId?: string;
  callback?: ClaimRequest['callback'];
  offline?: OfflineTarget;
}

/** What a {@link BulkAdder} needs of its producer. */
export interface BulkAdderDeps {
  queue: Queue<StoredJob>;
  claims: Claims;
  opts: ParsedProducerOptions;
  config: Config;
  logger: Logger;
}

const STATE: Readonly<Record<string, ExistingState>> = {
  active: 'active',
  delayed: 'delayed',
  completed: 'completed',
  failed: 'failed',
};

/**
 * Adds the jobs of one call to BullMQ, a slice at a time: each slice claims its ids, then BullMQ
 * adds the ones that are new; an id queued, running or with a result already is reported where it is.
 */
export class BulkAdder {
  constructor(private readonly deps: BulkAdderDeps) {}

  /**
   * Adds the jobs in slices of `sliceSize` jobs or `sliceBytes` of text, in order.
   * @returns one answer per job, in order
   * @throws BatchClosedError when the batch is done already and a slice would add jobs to it.
   */
  async add(prepared: readonly PreparedJob[], target: AddTarget): Promise<EnqueueResult[]> {
    const { sliceSize, sliceBytes } = this.deps.opts;
    const out: EnqueueResult[] = [];
    let slice: PreparedJob[] = [];
    let bytes = 0;
    for (const p of prepared) {
      slice.push(p);
      bytes += p.bytes;
      if (slice.length >= sliceSize || bytes >= sliceBytes) {
        out.push(...(await this.addSlice(slice, target)));
        slice = [];
        bytes = 0;
      }
    }
    if (slice.length > 0) out.push(...(await this.addSlice(slice, target)));
    return out;
  }

  private async addSlice(slice: readonly PreparedJob[], target: AddTarget): Promise<EnqueueResult[]> {
    const { queue, claims, opts, config, logger } = this.deps;
    const { batchId, offline } = target;
    const req: ClaimRequest = {
      ids: slice.map((p) => p.id),
      ...(batchId !== undefined ? { batchId } : {}),
      ...(target.callback ? { callback: target.callback } : {}),
      token: randomUUID(),
      claimTtlSeconds: opts.claimTtlSeconds,
      batchTtlSeconds: config.resultTtlSeconds,
    };
    const { codes, refused, generations } = await claims.claim(req);
    if (refused && batchId !== undefined) throw new BatchClosedError(batchId);
    // An id a retry on purpose superseded is added with that retry's generation.
    const fresh = slice.flatMap((p, i) => {
      if (codes[i] !== 'new' && codes[i] !== 'repair') return [];
      const retry = generations[i] ?? 0;
      return [retry > 0 ? { ...p, job: { ...p.job, retry } } : p];
    });
    try {
      await queue.addBulk(
        fresh.map((p) => ({
          name: p.job.task,
          data: storedJob(offline ? { ...p.job, lane: offline.lane } : p.job),
          opts: {
            ...bullJobOptions(p.job, opts, config),
            // The offline lane takes them from the delayed set; what is not back by the deadline runs online.
            ...(offline ? { delay: Math.max(0, offline.deadlineMs - Date.now()) } : {}),
          },
        })),
      );
    } catch (err) {
      const undone = await claims.release(req).catch(() => 0);
      logger.error({ err, batchId, undone }, 'adding jobs to BullMQ failed; their claims were released');
      throw err;
    }
    // BullMQ holds them now; a claim left behind would only expire, holding memory until then.
    await claims
      .drop(
        req,
        fresh.map((p) => p.id),
      )
      .catch((err: unknown) =>
        logger.warn({ err, batchId }, 'could not drop claims; they expire on their own'),
      );
    return Promise.all(
      slice.map(async (p, i): Promise<EnqueueResult> => {
        const code = codes[i] ?? 'claimed';
        return code === 'new' || code === 'repair'
          ? { id: p.id, status: 'enqueued' }
          : { id: p.id, status: 'duplicate', existing: await this.existingState(p.id, code) };
      }),
    );
  }

  private async existingState(id: string, code: ClaimCode): Promise<ExistingState> {
    if (code === 'completed' || code === 'failed') return code;
    if (code === 'claimed') return 'enqueuing';
    if (code === 'again') return 'queued';
    return STATE[await this.deps.queue.getJobState(id)] ?? 'queued';
  }
}
