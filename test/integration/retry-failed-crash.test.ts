import { type BulkJobOptions, type Job, Queue, type QueueOptions } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { batchStatus } from '../../src/queue/batch-status.js';
import type { QueuedJob } from '../../src/queue/jobs.js';
import { createProducer, type Producer } from '../../src/queue/producer.js';
import { bullJobOptions, ProducerOptionsSchema } from '../../src/queue/producer-options.js';
import { FailedRetries } from '../../src/queue/retry-failed.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { ResultStore } from '../../src/results/store.js';
import { ask, doneEntries } from '../helpers/batches.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
const TITAN = 'amazon.titan-text-express-v1';
const IDS = ['dies-0', 'dies-1', 'dies-2'];

function config(): Config {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      endpoint: pipe.sim.url,
      chains: { default: ['titan-express'] },
      policy: {
        retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 },
        breaker: { consecutiveFailures: 1_000 },
      },
      worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 1, busyBackoffMs: 50 },
    },
  });
}

/** Where the retrying process dies, by the queue call it never gets past. */
type Stop = 'reading the failed jobs' | 'removing them' | 'adding them again' | 'after adding them again';

class ProcessDied extends Error {}

/**
 * The producer's queue, but the process "dies" at one step of a retry: the call throws and
 * nothing after it runs, as when the process is killed there.
 */
class DyingQueue extends Queue<QueuedJob> {
  constructor(
    private readonly stop: Stop,
    name: string,
    opts: QueueOptions,
  ) {
    super(name, opts);
  }

  override async getJob(jobId: string): Promise<Job<QueuedJob> | undefined> {
    if (this.stop === 'reading the failed jobs') throw new ProcessDied(this.stop);
    return super.getJob(jobId);
  }

  override async remove(jobId: string, opts?: { removeChildren?: boolean }): Promise<number> {
    if (this.stop === 'removing them') throw new ProcessDied(this.stop);
    return super.remove(jobId, opts);
  }

  override async addBulk(
    jobs: { name: string; data: QueuedJob; opts?: BulkJobOptions }[],
  ): Promise<Job<QueuedJob>[]> {
    if (this.stop === 'adding them again') throw new ProcessDied(this.stop);
    const added = await super.addBulk(jobs);
    if (this.stop === 'after adding them again') throw new ProcessDied(this.stop);
    return added;
  }
}

async function startPipelineWorker(c: Config) {
  const worker = await startWorker({ config: c, fleetRateLimits: false });
  pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
  return worker;
}

/** A batch whose every job failed while its one model was down; no worker runs on return. */
async function failedBatch(c: Config, producer: Producer) {
  const worker = await startPipelineWorker(c);
  const fault = pipe.sim.admin.addFault({ model: TITAN, outage: true });
  await producer.enqueueBatch(
    IDS.map((id) => ask(id)),
    { batchId: 'dies' },
  );
  const counters = await producer.waitForBatch('dies', { pollMs: 200 });
  pipe.sim.admin.removeFault(fault);
  await worker.close({ deadlineMs: 5_000 });
  return counters;
}

/** A retry like the producer's, run over a queue that dies at `stop`. */
function dyingRetries(c: Config, stop: Stop) {
  const keys = keysFor(ctx.prefix);
  const queue = pipe.track(
    new DyingQueue(stop, keys.queueName, { connection: ctx.redis, prefix: ctx.prefix }),
  );
  const producerOpts = ProducerOptionsSchema.parse({ redis: ctx.url });
  return new FailedRetries({
    redis: ctx.redis,
    keys,
    queue,
    claimTtlSeconds: producerOpts.claimTtlSeconds,
    batchTtlSeconds: c.resultTtlSeconds,
    jobOptions: (job) => bullJobOptions(job, producerOpts, c),
    logger: silentLogger,
  });
}

/** Per id: its result's status (if any) and where BullMQ holds it (if anywhere). */
async function whereEachJobIs() {
  const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
  const queue = pipe.track(
    new Queue(keysFor(ctx.prefix).queueName, { connection: ctx.redis, prefix: ctx.prefix }),
  );
  const out: Record<string, { result: string | undefined; queue: string }> = {};
  for (const id of IDS) {
    out[id] = { result: (await store.get(id))?.status, queue: await queue.getJobState(id) };
  }
  return out;
}

/** The claims a dead process held run out; their TTL would do it, minutes later. */
async function expireClaims() {
  const keys = keysFor(ctx.prefix);
  await ctx.redis.del(...IDS.map((id) => keys.claim(id)));
}

/**
 * The generation the retried jobs end with: a retry that got past raising it used that one up,
 * and the next raises it again; one that queued the jobs already leaves them their own.
 */
const GENERATION: Record<Stop, number> = {
  'reading the failed jobs': 1,
  'removing them': 2,
  'adding them again': 2,
  'after adding them again': 1,
};
const STOPS = Object.keys(GENERATION) as Stop[];

describe('a retry of failed jobs whose process dies midway', () => {
  it.each(STOPS)(
    'leaves every job failed with its result or queued when it dies %s, and the next retry brings them back',
    async (stop) => {
      const c = config();
      const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
      await failedBatch(c, producer);

      await expect(dyingRetries(c, stop).retry('dies')).rejects.toBeInstanceOf(ProcessDied);
      const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
      const status = await batchStatus(ctx.redis, keysFor(ctx.prefix), store, 'dies');
      const where = await whereEachJobIs();
      // Checked before going on: a job lost here would keep the batch from ever ending.
      expect(status).toMatchObject({ total: 3, missing: 0 });
      expect(status!.completed + status!.failed + status!.waiting + status!.active).toBe(3);
      for (const id of IDS) {
        const { result, queue } = where[id]!;
        expect(result === 'failed' || queue === 'waiting', `${id}: result ${result}, queue ${queue}`).toBe(
          true,
        );
      }
      await expireClaims();
      const again = await producer.retryFailed('dies');
      await startPipelineWorker(c);
      const after = await producer.waitForBatch('dies', { pollMs: 200 });

      expect(again).toMatchObject({ retried: 3, busy: [], expired: [], missing: [] });
      expect(after).toEqual({ batchId: 'dies', total: 3, completed: 3, failed: 0 });
      for (const id of IDS) {
        expect(await producer.getResult(id)).toMatchObject({ status: 'completed', retry: GENERATION[stop] });
      }
      expect(await doneEntries(ctx.redis, ctx.prefix, 'dies')).toHaveLength(2);
    },
  );

  it('ends the batch again when the jobs it queued finish before anything supersedes their failed results', async () => {
    const c = config();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config: c }));
    await failedBatch(c, producer);

    await expect(dyingRetries(c, 'after adding them again').retry('dies')).rejects.toBeInstanceOf(
      ProcessDied,
    );
    await startPipelineWorker(c);
    const store = new ResultStore(ctx.redis, { prefix: ctx.prefix });
    await expect
      .poll(async () => (await store.state('dies'))?.done, { timeout: 30_000, interval: 20 })
      .toBe(true);
    const ended = await producer.getBatch('dies');
    await expireClaims();
    const again = await producer.retryFailed('dies');

    // It ended once more, with every new result: not at the first, while the others still counted.
    expect(ended).toEqual({ batchId: 'dies', total: 3, completed: 3, failed: 0 });
    expect(await doneEntries(ctx.redis, ctx.prefix, 'dies')).toHaveLength(2);
    for (const id of IDS)
      expect(await producer.getResult(id)).toMatchObject({ status: 'completed', retry: 1 });
    expect(again).toMatchObject({ retried: 0, completed: 3 });
  });
});
