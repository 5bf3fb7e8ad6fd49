import { Queue } from 'bullmq';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { parseJob, QueuedJobSchema } from '../../src/queue/jobs.js';
import { createProducer } from '../../src/queue/producer.js';
import { isJobValidationError, JobValidationError } from '../../src/queue/validation.js';
import { keysFor } from '../../src/redis/keys.js';
import { CLEAN_EVERY, fuzzRuns, fuzzTimeout, hostileJob, strayKeys } from '../helpers/fuzz.js';
import { deleteKeys, useRedis } from '../helpers/redis.js';

const ctx = useRedis();
/** Small, so documents over the limit are cheap to make; the limit itself is what is tested. */
const DOCUMENT_BYTES = 4 * 1024;
const IN_PROCESS_RUNS = fuzzRuns(300);
const REDIS_RUNS = fuzzRuns(60);

function config(prefix = '{fuzz}'): Config {
  return loadConfig({
    env: {},
    overrides: { prefix, redisUrl: ctx.url, limits: { maxDocumentBytes: DOCUMENT_BYTES } },
  });
}

/** What every refusal must look like: a JobValidationError naming a field under `root`, short enough to read. */
function expectClearRefusal(e: unknown, root: string): void {
  expect(e).toBeInstanceOf(JobValidationError);
  const error = e as JobValidationError;
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(issue.path.startsWith(root)).toBe(true);
    expect(issue.message.length).toBeGreaterThan(0);
    // A refusal quotes what it refuses, but never a whole hostile value back.
    expect(issue.path.length + issue.message.length).toBeLessThan(1_200);
  }
  expect(error.message).not.toMatch(/\n\s+at /);
}

describe('the job schema with hostile input', () => {
  it(
    'answers every input with a job or a JobValidationError naming the field, and never alters a prototype',
    () => {
      const c = config();
      const catalog = ModelCatalog.of(c);
      const before = Object.getOwnPropertyNames(Object.prototype).sort();
      fc.assert(
        fc.property(
          hostileJob(DOCUMENT_BYTES),
          fc.constantFrom('job', 'jobs[3]', 'line 12'),
          (input, root) => {
            let refusal: unknown;
            try {
              const job = parseJob(input, { catalog, config: c, path: root });
              expect(typeof job.task).toBe('string');
              if (job.document !== undefined) {
                expect(Buffer.byteLength(job.document, 'utf8')).toBeLessThanOrEqual(DOCUMENT_BYTES);
              }
            } catch (e) {
              refusal = e;
            }
            if (refusal !== undefined) expectClearRefusal(refusal, root);
          },
        ),
        { numRuns: IN_PROCESS_RUNS },
      );

      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
    },
    fuzzTimeout(IN_PROCESS_RUNS, 10),
  );
});

describe('the producer with hostile input, against Redis', () => {
  it(
    'enqueues exactly the valid jobs, each under its own id, refuses the rest naming the field, and writes nothing for a refused batch',
    async () => {
      const c = config(ctx.prefix);
      const keys = keysFor(ctx.prefix);
      const producer = createProducer({ redis: ctx.redis, prefix: ctx.prefix, config: c });
      const queue = new Queue(keys.queueName, { connection: ctx.redis, prefix: ctx.prefix });
      let n = 0;
      let enqueued = 0;
      // Ids of every run since the last clean-up: a job of an earlier run is a duplicate now.
      const accepted = new Set<string>();
      const audit = async () => {
        expect(await strayKeys(ctx.redis, ctx.prefix, accepted)).toEqual([]);
        await deleteKeys(ctx.redis, ctx.prefix);
        accepted.clear();
      };
      try {
        await fc.assert(
          fc.asyncProperty(
            fc.array(hostileJob(DOCUMENT_BYTES), { minLength: 1, maxLength: 4 }),
            async (jobs) => {
              const batchId = `fuzz-${n++}`;
              accepted.add(batchId);
              // One at a time: each job is enqueued, or refused naming its field.
              for (const job of jobs) {
                const single = { ...job, batchId: undefined };
                delete single.batchId;
                const outcome = await producer.enqueue(single as never).catch((e: unknown) => e);
                if (isJobValidationError(outcome)) {
                  expectClearRefusal(outcome, 'job');
                  continue;
                }
                if (outcome instanceof Error) throw outcome;
                const { id } = outcome as { id: string };
                accepted.add(id);
                enqueued++;
                const held = await queue.getJob(id);
                expect(QueuedJobSchema.safeParse(held?.data).success).toBe(true);
                expect(held?.data?.id).toBe(id);
              }
              // As one batch: every job, or none.
              const whole = await producer
                .enqueueBatch(jobs.map((j) => ({ ...j, batchId })) as never, { batchId })
                .catch((e: unknown) => e);
              if (isJobValidationError(whole)) {
                expectClearRefusal(whole, 'jobs[');
                expect(await ctx.redis.exists(keys.batch(batchId))).toBe(0);
              } else if (whole instanceof Error) {
                throw whole;
              } else {
                for (const j of (whole as { jobs: { id: string }[] }).jobs) accepted.add(j.id);
              }
              if (n % CLEAN_EVERY === 0) await audit();
            },
          ),
          { numRuns: REDIS_RUNS },
        );
        await audit();
        // Not a vacuous run: some of the jobs are valid and go in.
        expect(enqueued).toBeGreaterThan(0);
      } finally {
        await queue.close();
        await producer.close();
      }
    },
    fuzzTimeout(REDIS_RUNS, 40),
  );
});
