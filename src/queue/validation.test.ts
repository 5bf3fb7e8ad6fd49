import { describe, expect, it } from 'vitest';
import { formatPath, JobValidationError } from './validation.js';

describe('formatPath', () => {
  it('joins names with dots and indexes with brackets', () => {
    expect(formatPath('jobs[3]', ['messages', 1, 'role'])).toBe('jobs[3].messages[1].role');
  });

  it('quotes keys that are not identifiers', () => {
    expect(formatPath('job', ['metadata', 'a b', 'x.y'])).toBe('job.metadata["a b"]["x.y"]');
  });
});

describe('JobValidationError', () => {
  it('says every problem in one message and keeps the first path', () => {
    const err = new JobValidationError([
      { path: 'jobs[1].task', message: 'is required' },
      { path: 'jobs[1].params.topP', message: 'must be at most 1' },
    ]);

    expect(err.message).toBe('jobs[1].task: is required; jobs[1].params.topP: must be at most 1');
    expect(err.path).toBe('jobs[1].task');
  });
});
