import { z } from 'zod';
import { DAY, HOUR, SECOND } from '../units.js';

/**
 * How long BullMQ keeps finished jobs, shared by the producer (per job, on add) and the worker
 * (for every job that carries no retention of its own: completed jobs a producer added, unless
 * it was given `keepCompletedSeconds`). Results live in our own store and outlive these;
 * BullMQ's copies are for the dashboard, for inspection, and failed ones for a retry on purpose.
 */
export const RetentionFields = {
  keepCompletedSeconds: z
    .number()
    .int()
    .positive()
    .default(HOUR / SECOND)
    .describe('BullMQ keeps completed jobs this long; the result record outlives them'),
  keepFailedSeconds: z
    .number()
    .int()
    .positive()
    .default(DAY / SECOND)
    .describe('BullMQ keeps failed jobs this long, for inspection'),
};
