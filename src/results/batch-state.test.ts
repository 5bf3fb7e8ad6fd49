import { describe, expect, it } from 'vitest';
import { parseBatchState } from './batch-state.js';

describe('parseBatchState', () => {
  it('has no batch without counters', () => {
    expect(parseBatchState('b', {})).toBeUndefined();
    expect(parseBatchState('b', { callbackStatus: 'delivered' })).toBeUndefined();
  });

  it('is not done while open, however many results it has', () => {
    expect(parseBatchState('b', { total: '2', completed: '2', sealed: '0' })).toMatchObject({
      sealed: false,
      done: false,
    });
  });

  it('reads a hash written before batches could stay open as sealed', () => {
    expect(parseBatchState('b', { total: '2', completed: '1', failed: '1' })).toMatchObject({
      sealed: true,
      done: true,
    });
  });

  it('reads the end and the callback', () => {
    const state = parseBatchState('b', {
      total: '3',
      completed: '2',
      failed: '1',
      sealed: '1',
      doneAt: '1767225600000',
      doneEventId: '1767225600000-0',
      callbackUrl: 'https://hooks.example.com/x',
      callbackOn: 'failed-and-done',
      callbackStatus: 'failed',
      callbackAttempts: '8',
      callbackLastError: 'HTTP 502',
      callbackJobsDelivered: '1',
    });

    expect(state).toEqual({
      batchId: 'b',
      total: 3,
      completed: 2,
      failed: 1,
      sealed: true,
      done: true,
      finishedAt: '2026-01-01T00:00:00.000Z',
      doneEventId: '1767225600000-0',
      callback: {
        on: 'failed-and-done',
        status: 'failed',
        attempts: 8,
        lastError: 'HTTP 502',
        failedJobs: { delivered: 1, failed: 0 },
      },
      lanes: {
        online: { completed: 0, failed: 0, costUsd: 0 },
        offline: { completed: 0, failed: 0, costUsd: 0, onlineCostUsd: 0 },
      },
    });
  });

  it('reads results and cost per lane, with what the offline part would have cost online', () => {
    const state = parseBatchState('b', {
      total: '5',
      completed: '4',
      failed: '1',
      'online:completed': '1',
      'online:failed': '1',
      'online:costUsd': '0.000300000000',
      'offline:completed': '3',
      'offline:costUsd': '0.00045000000000000004',
      'offline:onlineCostUsd': '0.0009',
    });

    expect(state?.lanes).toEqual({
      online: { completed: 1, failed: 1, costUsd: 0.0003 },
      offline: { completed: 3, failed: 0, costUsd: 0.00045, onlineCostUsd: 0.0009 },
    });
  });

  it('says waiting for a callback whose batch is not done', () => {
    expect(
      parseBatchState('b', { total: '1', sealed: '1', callbackUrl: 'https://x.example', callbackOn: 'done' })
        ?.callback,
    ).toEqual({ on: 'done', status: 'waiting', attempts: 0 });
  });
});
