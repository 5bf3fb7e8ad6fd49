import { WaitingChildrenError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../resilience/attempt.js';
import {
  AllModelsBusyError,
  ChainAbortedError,
  ChainExhaustedError,
  InvalidJobError,
} from '../resilience/errors.js';
import { failureOutcome } from './outcome.js';
import { PartFailedError } from './split.js';

const ctx = { attemptsMade: 0, attempts: 3, busyBackoffMs: 1_000 };
const attempts: AttemptRecord[] = [{ modelId: 'm', outcome: 'unavailable', latencyMs: 4 }];

describe('what the worker does with a failed run', () => {
  it('lets a job that waits for its parts wait', () => {
    expect(failureOutcome(new WaitingChildrenError(), ctx)).toEqual({ action: 'waitChildren' });
  });

  it('pauses the queue when every model is busy, at most five busy backoffs long', () => {
    expect(failureOutcome(new AllModelsBusyError(1_500, attempts), ctx)).toEqual({
      action: 'busy',
      waitMs: 1_500,
      pauseMs: 1_500,
    });
    expect(failureOutcome(new AllModelsBusyError(60_000, attempts), ctx)).toMatchObject({ pauseMs: 5_000 });
  });

  it('hands the job back on shutdown', () => {
    expect(failureOutcome(new ChainAbortedError(attempts), ctx)).toEqual({ action: 'handBack' });
  });

  it('fails the job for good when it is invalid, every model failed or a part failed', () => {
    const errors = [
      new InvalidJobError('m refused the request: bad', attempts),
      new ChainExhaustedError(attempts, new Error('down')),
      new PartFailedError('part p0 failed: down', attempts),
    ];

    for (const error of errors) {
      expect(failureOutcome(error, ctx)).toEqual({ action: 'fail', message: error.message, attempts });
    }
  });

  it('leaves anything else to BullMQ retries and says when the last attempt is spent', () => {
    const first = failureOutcome(new Error('connection lost'), ctx);
    const last = failureOutcome('boom', { ...ctx, attemptsMade: 2 });

    expect(first).toEqual({ action: 'retry', message: 'worker error: connection lost', lastAttempt: false });
    expect(last).toEqual({ action: 'retry', message: 'worker error: boom', lastAttempt: true });
  });
});
