import { Queue } from 'bullmq';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { loadConfig } from '../../src/config.js';
import { BatchIdSchema, JobIdSchema } from '../../src/queue/ids.js';
import { createProducer } from '../../src/queue/producer.js';
import { isJobValidationError } from '../../src/queue/validation.js';
import { keysFor } from '../../src/redis/keys.js';
import { anyId, CLEAN_EVERY, decodedId, fuzzRuns, fuzzTimeout, percentEncode } from '../helpers/fuzz.js';
import { deleteKeys, useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const IN_PROCESS_RUNS = fuzzRuns(2_000);
const REDIS_RUNS = fuzzRuns(60);
const HTTP_RUNS = fuzzRuns(100);

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
      { numRuns: IN_PROCESS_RUNS },
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
      { numRuns: IN_PROCESS_RUNS },
    );
  });

  it(
    'enqueues every accepted id as its own job, and a refused call writes nothing',
    async () => {
      const keys = keysFor(ctx.prefix);
      const producer = createProducer({ redis: ctx.redis, prefix: ctx.prefix });
      const queue = new Queue(keys.queueName, { connection: ctx.redis, prefix: keys.bullPrefix });
      /** Whether each key the ids and the batch would have exists now. */
      const present = async (ids: readonly string[], batchId: string) =>
        Promise.all(
          [
            keys.batch(batchId),
            ...ids.flatMap((id) => [keys.result(id), keys.claim(id), keys.bullJob(id)]),
          ].map((k) => ctx.redis.exists(k)),
        );
      let batch = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.uniqueArray(decodedId, { minLength: 1, maxLength: 8 }), async (ids) => {
            const batchId = `prop-${batch++}`;
            // Walking the keys costs a pass over the shared Redis: cleaned now and then, so ids of
            // earlier runs may come back as duplicates here.
            if (batch % CLEAN_EVERY === 0) await deleteKeys(ctx.redis, ctx.prefix);
            const jobs = ids.map((id) => ({
              id,
              task: 'generate' as const,
              messages: [{ role: 'user' as const, content: 'Hi' }],
            }));
            const accepted = jobs.filter((j) => JobIdSchema.safeParse(j.id).success);

            if (accepted.length < jobs.length) {
              const valid = accepted.map((j) => j.id);
              const before = await present(valid, batchId);
              const refused = await producer.enqueueBatch(jobs as never, { batchId }).then(
                () => undefined,
                (e: unknown) => e,
              );
              expect(isJobValidationError(refused)).toBe(true);
              expect(await present(valid, batchId)).toEqual(before);
            }
            if (accepted.length === 0) return;
            const result = await producer.enqueueBatch(accepted as never, { batchId });
            const held = await Promise.all(accepted.map(async (j) => (await queue.getJob(j.id))?.data?.id));

            expect(result.enqueued + result.duplicates).toBe(accepted.length);
            expect(result.enqueued).toBe((await producer.getBatch(batchId))?.total);
            expect(held).toEqual(accepted.map((j) => j.id));
          }),
          { numRuns: REDIS_RUNS },
        );
      } finally {
        await queue.close();
        await producer.close();
      }
    },
    fuzzTimeout(REDIS_RUNS, 30),
  );

  it(
    'reads each accepted id back under its own path over HTTP, and answers every other id 400 or 404',
    async () => {
      const config = loadConfig({ env: {}, overrides: { redisUrl: ctx.url, prefix: ctx.prefix } });
      const api = await buildApi({ config });
      const producer = createProducer({ redis: ctx.redis, prefix: ctx.prefix, config });
      try {
        await fc.assert(
          fc.asyncProperty(fc.uniqueArray(anyId, { minLength: 1, maxLength: 6 }), async (ids) => {
            const sent = ids.filter((id): id is string => id !== undefined);
            const accepted = sent.filter((id) => JobIdSchema.safeParse(id).success);
            if (accepted.length > 0) {
              await producer.enqueueBatch(
                accepted.map((id) => ({ id, task: 'generate', messages: [{ role: 'user', content: 'Hi' }] })),
              );
            }
            for (const id of sent) {
              const res = await api.app.inject({ method: 'GET', url: `/v1/jobs/${percentEncode(id)}` });
              if (accepted.includes(id)) {
                expect(res.statusCode).toBe(200);
                expect(res.json()).toMatchObject({ id });
              } else {
                expect([400, 404]).toContain(res.statusCode);
                expect(typeof res.json().error).toBe('string');
              }
            }
          }),
          { numRuns: HTTP_RUNS },
        );
      } finally {
        await producer.close();
        await api.close();
      }
    },
    fuzzTimeout(HTTP_RUNS, 30),
  );
});
