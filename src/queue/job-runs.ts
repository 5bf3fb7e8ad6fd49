import { EventEmitter } from 'node:events';
import {
  type Job as BullJob,
  RateLimitError,
  UnrecoverableError,
  WaitingChildrenError,
  WaitingError,
} from 'bullmq';
import type { Clock } from '../clock.js';
import type { JobRunStatus, JobTask } from '../metrics/worker-metrics.js';
import { PART_JOB } from '../redis/names.js';
import type { JobOutcome } from './processor.js';

/** What the worker reports about each run of a job; ids and numbers only. */
export interface JobRunEvents {
  /** A worker began a run; `queueWaitMs` (enqueue to start, BullMQ's timestamps) on the first run only. */
  start: [{ jobId: string; task: JobTask; queueWaitMs?: number }];
  /** The run ended (see {@link JobRunStatus}); `durationMs` on the worker's clock. */
  end: [{ jobId: string; task: JobTask; status: JobRunStatus; durationMs: number }];
}

/** The typed bus of {@link JobRunEvents}. */
export type JobRunEmitter = EventEmitter<JobRunEvents>;

/** A new, empty bus. */
export function createJobRunEvents(): JobRunEmitter {
  return new EventEmitter<JobRunEvents>();
}

type Process = (bull: BullJob<unknown>, token?: string, signal?: AbortSignal) => Promise<JobOutcome>;

function taskOf(bull: BullJob<unknown>): JobTask {
  if (bull.name === PART_JOB) return 'part';
  const task = (bull.data as { task?: unknown } | null)?.task;
  return task === 'generate' || task === 'summarize' ? task : 'unknown';
}

/** How a run ended, from what the processor returned or threw (mirrors `failureOutcome`). */
function statusOf(bull: BullJob<unknown>, result: { out: JobOutcome } | { error: unknown }): JobRunStatus {
  if ('out' in result) return 'status' in result.out ? result.out.status : 'completed';
  const { error } = result;
  if (error instanceof UnrecoverableError) return 'failed';
  if (error instanceof WaitingChildrenError) return 'waiting_children';
  if (error instanceof WaitingError || error instanceof RateLimitError) return 'requeued';
  // On its last attempt the processor has written a failed result before throwing.
  return bull.attemptsMade + 1 >= (bull.opts.attempts ?? 1) ? 'failed' : 'retry';
}

/**
 * Wraps the processor so that every run emits `start` and `end`, whatever it returns or throws
 * (which it passes on unchanged). The processor itself stays free of counting.
 */
export function observeJobRuns(process: Process, o: { events: JobRunEmitter; clock: Clock }): Process {
  return async (bull, token, signal) => {
    const task = taskOf(bull);
    const jobId = bull.id ?? 'unknown';
    const startedAt = o.clock.now();
    const first = bull.attemptsStarted <= 1 && bull.processedOn !== undefined;
    o.events.emit('start', {
      jobId,
      task,
      ...(first ? { queueWaitMs: Math.max(0, (bull.processedOn ?? 0) - bull.timestamp) } : {}),
    });
    let result: { out: JobOutcome } | { error: unknown } | undefined;
    try {
      const out = await process(bull, token, signal);
      result = { out };
      return out;
    } catch (error) {
      result = { error };
      throw error;
    } finally {
      const status = statusOf(bull, result ?? { error: undefined });
      o.events.emit('end', { jobId, task, status, durationMs: o.clock.now() - startedAt });
    }
  };
}
