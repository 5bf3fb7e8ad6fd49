import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { BatchClosedError } from './batch-closed.js';
import type { ClaimCode, ClaimOutcome, ClaimRequest, Claims } from './claim.js';
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
   * Adds the jobs in slices of `sliceSize` jobs or `sliceBytes` of text, in order. The claim of
   * a slice goes out while BullMQ adds the one before it, and carries the drop of the claims of
   * the slice before that: two round trips per slice, overlapping, instead of three in a row.
   * BullMQ still adds slice after slice, and a slice that fails stops the rest.
   * @returns one answer per job, in order
   * @throws BatchClosedError when the batch is done already and a slice would add jobs to it.
   */
  async add(prepared: readonly PreparedJob[], target: AddTarget): Promise<EnqueueResult[]> {
    const { claims, logger } = this.deps;
    const slices = this.slices(prepared);
    const token = randomUUID();
    const request = (slice: readonly PreparedJob[], drop: readonly string[]): ClaimRequest => ({
      ids: slice.map((p) => p.id),
      ...(drop.length > 0 ? { drop } : {}),
      ...(target.batchId !== undefined ? { batchId: target.batchId } : {}),
      ...(target.callback ? { callback: target.callback } : {}),
      token,
      claimTtlSeconds: this.deps.opts.claimTtlSeconds,
      batchTtlSeconds: this.deps.config.resultTtlSeconds,
    });
    const out: EnqueueResult[] = [];
    // Ids BullMQ holds whose claims are still to drop, and those the claim in flight drops.
    let held: string[] = [];
    let dropping: readonly string[] = [];
    let req = request(slices[0] ?? [], []);
    let claiming = slices.length > 0 ? this.claim(req) : undefined;
    try {
      for (const [k, slice] of slices.entries()) {
        if (!claiming) throw new Error(`slice ${k} of an enqueue was never claimed`);
        const outcome = await claiming;
        dropping = [];
        if (outcome.refused && target.batchId !== undefined) throw new BatchClosedError(target.batchId);
        const fresh = freshJobs(slice, outcome);
        const adding = this.addToBull(fresh, target);
        // One connection runs commands in the order they were sent, so whether the next claim
        // runs before or after this add in Redis, an id of both slices is seen as this call's.
        const next = slices[k + 1];
        const nextReq = next ? request(next, held) : undefined;
        if (nextReq) {
          dropping = held;
          held = [];
        }
        claiming = nextReq ? this.claim(nextReq) : undefined;
        try {
          await adding;
        } catch (err) {
          const undone = await this.release(req, nextReq, claiming);
          logger.error(
            { err, batchId: target.batchId, undone },
            'adding jobs to BullMQ failed; their claims were released',
          );
          throw err;
        }
        for (const p of fresh) held.push(p.id);
        out.push(...(await this.answers(slice, outcome.codes)));
        if (nextReq) req = nextReq;
      }
    } finally {
      // BullMQ holds them now; a claim left behind would only expire, holding memory until then.
      const left = [...held, ...dropping];
      if (left.length > 0) {
        await claims
          .drop(req, left)
          .catch((err: unknown) =>
            logger.warn({ err, batchId: target.batchId }, 'could not drop claims; they expire on their own'),
          );
      }
    }
    return out;
  }

  /** Cuts a call into slices of `sliceSize` jobs or `sliceBytes` of text. */
  private slices(prepared: readonly PreparedJob[]): PreparedJob[][] {
    const { sliceSize, sliceBytes } = this.deps.opts;
    const slices: PreparedJob[][] = [];
    let slice: PreparedJob[] = [];
    let bytes = 0;
    for (const p of prepared) {
      slice.push(p);
      bytes += p.bytes;
      if (slice.length >= sliceSize || bytes >= sliceBytes) {
        slices.push(slice);
        slice = [];
        bytes = 0;
      }
    }
    if (slice.length > 0) slices.push(slice);
    return slices;
  }

  /** Sends a claim; a rejection is handled where it is awaited, or ignored when it never is. */
  private claim(req: ClaimRequest): Promise<ClaimOutcome> {
    const claiming = this.deps.claims.claim(req);
    claiming.catch(() => {});
    return claiming;
  }

  private addToBull(fresh: readonly PreparedJob[], target: AddTarget): Promise<unknown> {
    const { queue, opts, config } = this.deps;
    const { offline } = target;
    return queue.addBulk(
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
  }

  /**
   * After a failed add: releases the claims of the slice, and of the next one once its claim
   * (already sent) has come back. Never throws.
   * @returns how many claims were undone
   */
  private async release(
    req: ClaimRequest,
    nextReq: ClaimRequest | undefined,
    claiming: Promise<ClaimOutcome> | undefined,
  ): Promise<number> {
    const { claims } = this.deps;
    let undone = await claims.release(req).catch(() => 0);
    const next = await claiming?.catch(() => undefined);
    if (nextReq && next && !next.refused) undone += await claims.release(nextReq).catch(() => 0);
    return undone;
  }

  /** One answer per job of a slice; only a duplicate may need to ask Redis where its job is. */
  private async answers(
    slice: readonly PreparedJob[],
    codes: readonly ClaimCode[],
  ): Promise<EnqueueResult[]> {
    const out: EnqueueResult[] = [];
    const lookups: Promise<void>[] = [];
    slice.forEach((p, i) => {
      const code = codes[i] ?? 'claimed';
      if (code === 'new' || code === 'repair') {
        out.push({ id: p.id, status: 'enqueued' });
        return;
      }
      const at = out.length;
      out.push({ id: p.id, status: 'duplicate', existing: 'queued' });
      lookups.push(
        this.existingState(p.id, code).then((existing) => {
          out[at] = { id: p.id, status: 'duplicate', existing };
        }),
      );
    });
    await Promise.all(lookups);
    return out;
  }

  private async existingState(id: string, code: ClaimCode): Promise<ExistingState> {
    if (code === 'completed' || code === 'failed') return code;
    if (code === 'claimed') return 'enqueuing';
    // `bull` and `again`: BullMQ holds the job by now (this call added it, or an earlier one).
    return STATE[await this.deps.queue.getJobState(id)] ?? 'queued';
  }
}

/** The jobs of a slice to add; an id a retry on purpose superseded carries that retry's generation. */
function freshJobs(slice: readonly PreparedJob[], { codes, generations }: ClaimOutcome): PreparedJob[] {
  return slice.flatMap((p, i) => {
    if (codes[i] !== 'new' && codes[i] !== 'repair') return [];
    const retry = generations[i] ?? 0;
    return [retry > 0 ? { ...p, job: { ...p.job, retry } } : p];
  });
}
