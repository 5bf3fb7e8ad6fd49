import { Queue } from 'bullmq';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchIdSchema, JobIdSchema } from '../../src/queue/ids.js';
import { createProducer } from '../../src/queue/producer.js';
import { isJobValidationError } from '../../src/queue/validation.js';
import { keysFor } from '../../src/redis/keys.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Raw UTF-16 code units: lone surrogates, controls, anything JSON escapes can carry. */
const codeUnits = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 0, maxLength: 12 })
  .map((units) => String.fromCharCode(...units));
/** Bytes as a JSONL file or an HTTP body may hold them, decoded the way every door decodes them. */
const bytes = fc.uint8Array({ minLength: 0, maxLength: 12 }).map((b) => {
  try {
    return utf8.decode(b);
  } catch {
    return undefined; // refused at the door: "is not valid UTF-8"
  }
});
const anyId = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  codeUnits,
  bytes,
  fc.constantFrom(
    'sur-\uD800',
    'sur-\uDBFF',
    'collide-\uFFFD',
    'a:b',
    'meta',
    'x\ny',
    '{bj}',
    'x'.repeat(201),
  ),
);

/** Ids that got past the UTF-8 decoding of their door. */
const decodedId = anyId.filter((id): id is string => id !== undefined);

/** Every key an id becomes part of, as the bytes Redis stores. */
function keyBytes(id: string): string[] {
  const k = keysFor('{bj}');
  return [k.result(id), k.claim(id), k.bullJob(id), k.batch(id), k.batchJobs(id), k.batchResults(id)].map(
    (key) => Buffer.from(key, 'utf8').toString('hex'),
  );
}

describe('ids as Redis keys', () => {
  it('never lets two different accepted ids share a key', () => {
    fc.assert(
      fc.property(fc.uniqueArray(anyId, { maxLength: 30 }), (ids) => {
        const accepted = ids.filter(
          (id): id is string => id !== undefined && JobIdSchema.safeParse(id).success,
        );
        const keys = accepted.flatMap(keyBytes);

        expect(new Set(keys).size).toBe(keys.length);
      }),
      { numRuns: 2_000 },
    );
  });

  it('applies one rule to job and batch ids, apart from BullMQ’s reserved names', () => {
    fc.assert(
      fc.property(anyId, (id) => {
        fc.pre(id !== undefined);
        const job = JobIdSchema.safeParse(id).success;
        const batch = BatchIdSchema.safeParse(id).success;

        if (job) expect(batch).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('enqueues every accepted id as its own job, and a refused call writes nothing', async () => {
    const keys = keysFor(ctx.prefix);
    const producer = createProducer({ redis: ctx.redis, prefix: ctx.prefix });
    const queue = new Queue(keys.queueName, { connection: ctx.redis, prefix: keys.bullPrefix });
    // Every Queue writes BullMQ's meta key once, whenever its connection is ready: not ours to count.
    const meta = `${keys.bullPrefix}:${keys.queueName}:meta`;
    const countKeys = async () => (await ctx.redis.keys(`${ctx.prefix}*`)).filter((k) => k !== meta).length;
    let batch = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(decodedId, { minLength: 1, maxLength: 8 }), async (ids) => {
          const batchId = `prop-${batch++}`;
          const jobs = ids.map((id) => ({
            id,
            task: 'generate' as const,
            messages: [{ role: 'user' as const, content: 'Hi' }],
          }));
          const accepted = jobs.filter((j) => JobIdSchema.safeParse(j.id).success);
          // Each run starts from an empty prefix, so ids of earlier runs are not duplicates here.
          const stale = await ctx.redis.keys(`${ctx.prefix}*`);
          if (stale.length > 0) await ctx.redis.del(...stale);
          const before = await countKeys();

          if (accepted.length < jobs.length) {
            const refused = await producer.enqueueBatch(jobs as never, { batchId }).then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(isJobValidationError(refused)).toBe(true);
            expect(await countKeys()).toBe(before);
          }
          if (accepted.length === 0) return;
          const result = await producer.enqueueBatch(accepted as never, { batchId });
          const held = await Promise.all(accepted.map(async (j) => (await queue.getJob(j.id))?.data?.id));

          expect(result).toMatchObject({ enqueued: accepted.length, duplicates: 0 });
          expect(held).toEqual(accepted.map((j) => j.id));
        }),
        { numRuns: 60 },
      );
    } finally {
      await queue.close();
      await producer.close();
    }
  });
});
