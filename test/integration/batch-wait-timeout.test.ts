import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { BatchWaitTimeoutError } from '../../src/queue/batch-wait.js';
import { createProducer } from '../../src/queue/producer.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import { ask, resultFor } from '../helpers/batches.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const MINUTES_10 = 10 * 60_000;

function setup() {
  const clock = new ManualClock(0);
  const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, clock });
  const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
  return { clock, producer, store };
}

describe('waitForBatch with a timeout', () => {
  it('gives up after timeoutMs with an error naming the batch and its counters, and leaves the jobs queued', async () => {
    const { clock, producer, store } = setup();
    const queue = new Queue(keysFor(ctx.prefix).queueName, { connection: ctx.redis, prefix: ctx.prefix });
    try {
      await producer.enqueueBatch([ask('s-1'), ask('s-2'), ask('s-3')], { batchId: 'slow' });
      await store.save(resultFor('s-1', 'slow', 'completed'));

      const waiting = producer.waitForBatch('slow', { timeoutMs: MINUTES_10 }).catch((e: unknown) => e);
      await clock.sleeping(1);
      clock.advance(MINUTES_10 - 1);
      const early = clock.pending;
      clock.advance(1);
      const error = await waiting;

      expect(early).toBe(1);
      expect(error).toBeInstanceOf(BatchWaitTimeoutError);
      expect(error).toMatchObject({
        kind: 'wait_timeout',
        batchId: 'slow',
        timeoutMs: MINUTES_10,
        counters: { batchId: 'slow', total: 3, completed: 1, failed: 0 },
        sealed: true,
        message: 'batch slow not finished after 10m: 1/3 done (1 completed, 0 failed), 2 not finished',
      });
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 3 });
      expect(await producer.getBatch('slow')).toEqual({ batchId: 'slow', total: 3, completed: 1, failed: 0 });
    } finally {
      await queue.close();
      await producer.close();
    }
  });

  it('says when the batch cannot be done because it is still open', async () => {
    const { clock, producer } = setup();
    try {
      await producer.enqueueBatch([ask('o-1')], { batchId: 'open', open: true });

      const waiting = producer.waitForBatch('open', { timeoutMs: 90_000 }).catch((e: unknown) => e);
      await clock.sleeping(1);
      clock.advance(90_000);

      expect(((await waiting) as Error).message).toBe(
        'batch open not finished after 1m30s: 0/1 done (0 completed, 0 failed), 1 not finished; the batch is open (more jobs may be added) and is not done until it is sealed',
      );
    } finally {
      await producer.close();
    }
  });

  it('resolves as before when the batch ends in time, and drops its deadline', async () => {
    const { clock, producer, store } = setup();
    try {
      await producer.enqueueBatch([ask('q-1'), ask('q-2')], { batchId: 'quick' });

      const waiting = producer.waitForBatch('quick', { timeoutMs: MINUTES_10 });
      await clock.sleeping(1);
      await store.save(resultFor('q-1', 'quick', 'completed'));
      await store.save(resultFor('q-2', 'quick', 'failed'));
      const counters = await waiting;

      expect(counters).toEqual({ batchId: 'quick', total: 2, completed: 1, failed: 1 });
      expect(clock.pending).toBe(0);
    } finally {
      await producer.close();
    }
  });
});
