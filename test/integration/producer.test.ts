import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config.js';
import { type JobInput, QueuedJobSchema } from '../../src/queue/jobs.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { JobValidationError } from '../../src/queue/validation.js';
import { keysFor } from '../../src/redis/keys.js';
import type { BatchCounters, ResultRecordInput } from '../../src/results/record.js';
import { ResultStore } from '../../src/results/store.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const config = ConfigSchema.parse({ worker: { jobAttempts: 3 } });

let open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of open.reverse()) await resource.close();
  open = [];
});

function producer(): Producer {
  const p = createProducer({ redis: ctx.url, prefix: ctx.prefix, config });
  open.push(p);
  return p;
}

/** BullMQ's own view of the queue, to check what really got added. */
function bullQueue(): Queue {
  const keys = keysFor(ctx.prefix);
  const q = new Queue(keys.queueName, { connection: ctx.redis, prefix: keys.bullPrefix });
  open.push(q);
  return q;
}

function summarize(id: string, extra: Partial<JobInput> = {}): JobInput {
  return { id, task: 'summarize', document: `document ${id}`, ...extra };
}

function resultFor(id: string, batchId: string, status: 'completed' | 'failed'): ResultRecordInput {
  const now = '2026-01-01T00:00:00.000Z';
  return {
    id,
    batchId,
    status,
    text: status === 'completed' ? 'ok' : null,
    stopReason: status === 'completed' ? 'end_turn' : null,
    modelId: status === 'completed' ? 'amazon.nova-micro-v1:0' : null,
    attempts: [],
    usage: { inputTokens: 1, outputTokens: 1 },
    costUsd: 0,
    enqueuedAt: now,
    startedAt: now,
    finishedAt: now,
    ...(status === 'failed' ? { error: 'failed on purpose' } : {}),
  };
}

describe('enqueue', () => {
  it('adds a job once: the same id again says duplicate and BullMQ holds one job', async () => {
    const p = producer();
    const queue = bullQueue();

    const first = await p.enqueue(summarize('doc-1'));
    const second = await p.enqueue(summarize('doc-1', { document: 'changed' }));

    expect(first).toEqual({ id: 'doc-1', status: 'enqueued' });
    expect(second).toEqual({ id: 'doc-1', status: 'duplicate', existing: 'queued' });
    expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active')).toEqual({
      waiting: 1,
      prioritized: 0,
      delayed: 0,
      active: 0,
    });
    const job = await queue.getJob('doc-1');
    expect(job?.data).toMatchObject({ id: 'doc-1', document: 'document doc-1' });
    // The default api is not stored; the worker's parse fills it in.
    expect(job?.data).not.toHaveProperty('api');
    expect(QueuedJobSchema.parse(job?.data).api).toBe('invoke');
    expect(Date.parse(job?.data.enqueuedAt)).not.toBeNaN();
    expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential' } });
    // Failed jobs are kept a day for a retry on purpose; completed ones as the worker says.
    expect(job?.opts.removeOnFail).toEqual({ age: 86_400 });
    expect(job?.opts.removeOnComplete).toBeUndefined();
  });

  it('gives a job its own retention when the producer asks for one', async () => {
    const p = createProducer({ redis: ctx.url, prefix: ctx.prefix, config, keepCompletedSeconds: 600 });
    open.push(p);

    await p.enqueue(summarize('doc-kept'));

    expect((await bullQueue().getJob('doc-kept'))?.opts.removeOnComplete).toEqual({ age: 600 });
  });

  it('does not enqueue again a job that already has a result', async () => {
    const p = producer();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await store.save({ ...resultFor('done-1', 'x', 'failed'), batchId: null });

    const again = await p.enqueue(summarize('done-1'));

    expect(again).toEqual({ id: 'done-1', status: 'duplicate', existing: 'failed' });
    expect(await bullQueue().getJob('done-1')).toBeUndefined();
  });

  it('gives a job without an id a uuid', async () => {
    const p = producer();

    const res = await p.enqueue({ task: 'generate', messages: [{ role: 'user', content: 'hi' }] });

    expect(res.status).toBe('enqueued');
    expect(res.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes the job priority to BullMQ', async () => {
    const p = producer();

    await p.enqueue(summarize('urgent', { priority: 1 }));

    expect((await bullQueue().getJob('urgent'))?.opts.priority).toBe(1);
  });

  it('refuses an invalid job with a message naming the field', async () => {
    const p = producer();

    await expect(p.enqueue(summarize('bad', { params: { temperature: 3 } }))).rejects.toThrow(
      'job.params.temperature: must be at most 1',
    );
  });
});

describe('enqueueBatch', () => {
  it('enqueues 1,000 jobs and counts them in the batch', async () => {
    const p = producer();
    const jobs = Array.from({ length: 1_000 }, (_, i) => summarize(`doc-${i}`));

    const res = await p.enqueueBatch(jobs, { batchId: 'thousand' });

    expect(res).toMatchObject({ batchId: 'thousand', enqueued: 1_000, duplicates: 0 });
    expect(await bullQueue().getJobCountByTypes('waiting')).toBe(1_000);
    expect(await p.getBatch('thousand')).toEqual({
      batchId: 'thousand',
      total: 1_000,
      completed: 0,
      failed: 0,
    });
  });

  it('refuses the whole batch when job 7 is invalid, naming jobs[7], and enqueues nothing', async () => {
    const p = producer();
    const jobs = Array.from({ length: 20 }, (_, i) =>
      i === 7 ? summarize(`doc-${i}`, { document: '' }) : summarize(`doc-${i}`),
    );

    const refused = p.enqueueBatch(jobs, { batchId: 'bad' });

    await expect(refused).rejects.toThrow(JobValidationError);
    await expect(refused).rejects.toThrow(/^jobs\[7\]\.document: /);
    expect(await bullQueue().getJobCountByTypes('waiting', 'prioritized')).toBe(0);
    expect(await p.getBatch('bad')).toBeUndefined();
  });

  it('counts only new jobs when a batch is enqueued in several calls with overlaps', async () => {
    const p = producer();

    await p.enqueueBatch([summarize('a'), summarize('b')], { batchId: 'multi' });
    const second = await p.enqueueBatch([summarize('b'), summarize('c'), summarize('c')], {
      batchId: 'multi',
    });

    expect(second.jobs).toEqual([
      { id: 'b', status: 'duplicate', existing: 'queued' },
      { id: 'c', status: 'enqueued' },
      { id: 'c', status: 'duplicate', existing: 'queued' },
    ]);
    expect(await p.getBatch('multi')).toMatchObject({ total: 3 });
  });

  it('uses the jobs\u2019 own batch id, or a new one, when the call names none', async () => {
    const p = producer();

    const named = await p.enqueueBatch([summarize('n1', { batchId: 'mine' }), summarize('n2')]);
    const fresh = await p.enqueueBatch([summarize('f1')]);

    expect(named.batchId).toBe('mine');
    expect(fresh.batchId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await bullQueue().getJob('n2'))?.data.batchId).toBe('mine');
  });

  it('keeps no claim once BullMQ holds the jobs, and the ids stay taken for any other batch', async () => {
    const p = producer();
    const keys = keysFor(ctx.prefix);
    const ids = Array.from({ length: 1_200 }, (_, i) => `held-${i}`);

    await p.enqueueBatch(
      ids.map((id) => summarize(id)),
      { batchId: 'held' },
    );
    const claims = await Promise.all(ids.map((id) => ctx.redis.exists(keys.claim(id))));
    const elsewhere = await p.enqueueBatch([summarize('held-0'), summarize('held-1199')], {
      batchId: 'elsewhere',
    });

    expect(claims.filter((n) => n === 1)).toHaveLength(0);
    expect(elsewhere.jobs).toEqual([
      { id: 'held-0', status: 'duplicate', existing: 'queued' },
      { id: 'held-1199', status: 'duplicate', existing: 'queued' },
    ]);
    expect(await p.getBatch('held')).toMatchObject({ total: 1_200 });
  });

  it('refuses a job whose batch id differs from the call\u2019s', async () => {
    const p = producer();

    await expect(p.enqueueBatch([summarize('x', { batchId: 'other' })], { batchId: 'this' })).rejects.toThrow(
      'jobs[0].batchId: is "other" but this call enqueues batch "this"',
    );
  });
});

describe('waitForBatch', () => {
  it('resolves with the final counters once every job has a result, reporting progress on the way', async () => {
    const p = producer();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    const ids = ['w1', 'w2', 'w3'];
    await p.enqueueBatch(
      ids.map((id) => summarize(id)),
      { batchId: 'wait' },
    );
    const seen: BatchCounters[] = [];
    let saveNext = async () => {};
    const done = p.waitForBatch('wait', {
      // Save the next result only after the waiter has seen the previous one.
      onProgress: (c) => {
        seen.push(c);
        void saveNext();
      },
    });
    let n = 0;
    saveNext = async () => {
      const id = ids[n];
      n += 1;
      if (id) await store.save(resultFor(id, 'wait', id === 'w2' ? 'failed' : 'completed'));
    };
    await saveNext();

    const final = await done;

    expect(final).toEqual({ batchId: 'wait', total: 3, completed: 2, failed: 1 });
    expect(seen.at(-1)).toEqual(final);
    expect(seen.length).toBeGreaterThanOrEqual(2);
  });

  it('counts a result saved twice once, so the batch finishes exactly', async () => {
    const p = producer();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await p.enqueueBatch([summarize('once-1'), summarize('once-2')], { batchId: 'twice' });

    await store.save(resultFor('once-1', 'twice', 'completed'));
    await store.save(resultFor('once-1', 'twice', 'completed'));
    await store.save(resultFor('once-2', 'twice', 'completed'));

    expect(await p.waitForBatch('twice')).toEqual({ batchId: 'twice', total: 2, completed: 2, failed: 0 });
  });

  it('stops waiting with the abort reason when the signal aborts', async () => {
    const p = producer();
    await p.enqueueBatch([summarize('never')], { batchId: 'stuck' });
    const controller = new AbortController();

    const waiting = p.waitForBatch('stuck', {
      signal: controller.signal,
      // Abort once the waiter is blocked on the results stream.
      onProgress: () => setImmediate(() => controller.abort(new Error('gave up'))),
    });

    await expect(waiting).rejects.toThrow('gave up');
  });
});

describe('close', () => {
  it('ends a wait in progress', async () => {
    const p = createProducer({ redis: ctx.url, prefix: ctx.prefix, config });
    await p.enqueueBatch([summarize('pending')], { batchId: 'open' });
    let closed: Promise<void> | undefined;

    const waiting = p.waitForBatch('open', { onProgress: () => setImmediate(() => (closed = p.close())) });

    await expect(waiting).rejects.toThrow('stopped waiting for batch open: producer closed');
    await closed;
  });

  it('can be called twice and leaves a shared connection open', async () => {
    const p = createProducer({ redis: ctx.redis, prefix: ctx.prefix, config });

    await p.enqueue(summarize('c1'));
    await Promise.all([p.close(), p.close()]);

    expect(await ctx.redis.ping()).toBe('PONG');
    await expect(p.enqueue(summarize('c2'))).rejects.toThrow('producer is closed');
  });
});
