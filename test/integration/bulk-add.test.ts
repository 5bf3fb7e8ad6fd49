import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { BatchClosedError } from '../../src/queue/batch-closed.js';
import { BulkAdder } from '../../src/queue/bulk-add.js';
import { type ClaimRequest, Claims } from '../../src/queue/claim.js';
import type { StoredJob } from '../../src/queue/jobs.js';
import { prepareJob } from '../../src/queue/prepare-jobs.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { ProducerOptionsSchema } from '../../src/queue/producer-options.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import { ask, resultFor } from '../helpers/batches.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const config = ConfigSchema.parse({});

let open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const resource of open.reverse()) await resource.close();
  open = [];
});

/** A producer that cuts every call into slices of two jobs, so a few jobs make several slices. */
function producer(): Producer {
  const p = createProducer({ redis: ctx.url, prefix: ctx.prefix, config, sliceSize: 2 });
  open.push(p);
  return p;
}

function bullQueue(): Queue<StoredJob> {
  const keys = keysFor(ctx.prefix);
  const q = new Queue<StoredJob>(keys.queueName, { connection: ctx.redis, prefix: keys.bullPrefix });
  open.push(q);
  return q;
}

async function claimsHeld(ids: readonly string[]): Promise<string[]> {
  const keys = keysFor(ctx.prefix);
  const held = await Promise.all(ids.map((id) => ctx.redis.exists(keys.claim(id))));
  return ids.filter((_, i) => held[i] === 1);
}

describe('an enqueue of several slices', () => {
  it('reports an id of an earlier slice of the same call as a duplicate, counts it once and keeps no claim', async () => {
    const p = producer();
    const ids = ['a', 'b', 'c', 'a', 'd', 'b', 'e'];

    const result = await p.enqueueBatch(
      ids.map((id) => ask(id)),
      { batchId: 'slices' },
    );

    expect(result.jobs).toEqual([
      { id: 'a', status: 'enqueued' },
      { id: 'b', status: 'enqueued' },
      { id: 'c', status: 'enqueued' },
      { id: 'a', status: 'duplicate', existing: 'queued' },
      { id: 'd', status: 'enqueued' },
      { id: 'b', status: 'duplicate', existing: 'queued' },
      { id: 'e', status: 'enqueued' },
    ]);
    expect(await p.getBatch('slices')).toMatchObject({ total: 5 });
    expect(await bullQueue().getJobCountByTypes('waiting')).toBe(5);
    expect(await claimsHeld(ids)).toEqual([]);
  });

  it('stops at a done batch in a later slice, adds nothing of it and keeps no claim', async () => {
    const p = producer();
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await p.enqueueBatch([ask('f1'), ask('f2')], { batchId: 'finished' });
    await store.save(resultFor('f1', 'finished', 'completed'));
    await store.save(resultFor('f2', 'finished', 'completed'));

    // The first slice only repeats done jobs; the second would add one.
    const refused = await p
      .enqueueBatch([ask('f1'), ask('f2'), ask('f3'), ask('f4')], { batchId: 'finished' })
      .catch((e: unknown) => e);

    expect(refused).toBeInstanceOf(BatchClosedError);
    expect(await bullQueue().getJob('f3')).toBeUndefined();
    expect(await store.state('finished')).toMatchObject({ total: 2, done: true });
    expect(await claimsHeld(['f1', 'f2', 'f3', 'f4'])).toEqual([]);
  });

  it('releases the claims of a slice BullMQ failed to add and of the slice claimed behind it', async () => {
    const keys = keysFor(ctx.prefix);
    let adds = 0;
    // BullMQ's add fails for the second slice, as when Redis goes away mid-call.
    class FailingQueue extends Queue<StoredJob> {
      override addBulk(...args: Parameters<Queue<StoredJob>['addBulk']>) {
        adds += 1;
        if (adds === 2) return Promise.reject(new Error('connection lost'));
        return super.addBulk(...args);
      }
    }
    const queue = new FailingQueue(keys.queueName, { connection: ctx.redis, prefix: keys.bullPrefix });
    open.push(queue);
    const adder = new BulkAdder({
      queue,
      claims: new Claims(ctx.redis, keys),
      opts: ProducerOptionsSchema.parse({ redis: ctx.redis, sliceSize: 2 }),
      config,
      logger: silentLogger,
    });
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
    const prepared = ids.map((id, i) =>
      prepareJob({ ...ask(id), batchId: 'broken' }, `jobs[${i}]`, new Date().toISOString(), {
        catalog: ModelCatalog.of(config),
        config,
      }),
    );

    const failed = await adder.add(prepared, { batchId: 'broken' }).catch((e: unknown) => e);

    expect(failed).toMatchObject({ message: 'connection lost' });
    expect(adds).toBe(2);
    expect((await bullQueue().getJobs(['waiting'])).map((j) => j.id).sort()).toEqual(['r1', 'r2']);
    // The batch counts what BullMQ holds, so repeating the call completes it.
    expect(await ctx.redis.hget(keys.batch('broken'), 'total')).toBe('2');
    expect((await ctx.redis.smembers(keys.batchJobs('broken'))).sort()).toEqual(['r1', 'r2']);
    expect(await claimsHeld(ids)).toEqual([]);
  });
});

describe('the claim script', () => {
  function request(ids: string[], token: string, drop?: string[]): ClaimRequest {
    return {
      ids,
      ...(drop ? { drop } : {}),
      batchId: 'b',
      token,
      claimTtlSeconds: 300,
      batchTtlSeconds: 3600,
    };
  }

  it('drops the claims it is given that are still its own, and sees its own claims as this call’s', async () => {
    const keys = keysFor(ctx.prefix);
    const claims = new Claims(ctx.redis, keys);
    const token = randomUUID();
    const other = randomUUID();
    await claims.claim(request(['x', 'y'], token));
    // Another call of the same batch repairs z meanwhile: its claim is not this call's to drop.
    await claims.claim(request(['z'], other));

    const next = await claims.claim(request(['y', 'w'], token, ['x', 'z']));

    expect(next.codes).toEqual(['again', 'new']);
    expect(next.counted).toBe(1);
    expect(await claimsHeld(['x', 'y', 'z', 'w'])).toEqual(['y', 'z', 'w']);
    expect(await ctx.redis.get(keys.claim('z'))).toBe(`${other}b`);
  });
});
