/**
 * A burst of jobs far larger than a worker holds at once, against one worker process whose
 * JavaScript heap is capped (`node --max-old-space-size`): it must neither crash nor grow with
 * the backlog, and every job must finish. The model answers at once (simulator, no latency, no
 * quota), so the queue and the worker are what is measured.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createProducer } from '../../src/queue/producer.js';
import { ProfileSchema, startSimulatorWithProfile } from '../../src/simulator/index.js';
import { redisUrl } from '../helpers/redis.js';
import { rssOf } from '../helpers/worker-process.js';
import { finishedJobs, job, repeated, useChaos, writeConfig } from './harness.js';

const chaos = useChaos();
const MODEL = 'amazon.nova-micro-v1:0';
/**
 * Jobs in the burst. 50,000 took 3.7 minutes on two cores shared with other work (about 250
 * jobs/s), most of the whole suite's five, so the suite runs 10,000;
 * `CHAOS_BURST_JOBS=50000 npm run test:chaos` runs the full burst.
 */
const JOBS = z.coerce.number().int().positive().default(10_000).parse(process.env.CHAOS_BURST_JOBS);
const HEAP_MB = 256;
/**
 * Peak resident memory allowed. The worker starts at about 150 MB (Node, the SDK, the code) and
 * levelled off at 270 to 300 MB through 10,000 and 50,000 jobs; a worker that kept what each
 * job left behind would reach the heap cap and crash long before the end of the burst.
 */
const PEAK_RSS_MB = 384;

describe('a burst against a worker with a memory cap', () => {
  it(`finishes ${JOBS} jobs without crashing, its resident memory bounded`, async () => {
    const url = await redisUrl();
    chaos.cleanKeysOn(url);
    const { keys, prefix } = chaos;
    const quota = { rpm: 1e9, tpm: 1e12 };
    const sim = chaos.track(
      await startSimulatorWithProfile({
        profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { [MODEL]: quota } }),
      }),
    );
    const configFile = writeConfig(chaos.dir, { prefix, models: { [MODEL]: quota } });
    const admin = new Redis(url);
    chaos.track({ close: () => admin.quit().then(() => undefined) });
    const producer = chaos.track(createProducer({ redis: url, prefix }));
    const worker = await chaos.startWorker({
      redisUrl: url,
      endpoint: sim.url,
      configFile,
      concurrency: 32,
      nodeArgs: [`--max-old-space-size=${HEAP_MB}`],
    });
    const samples: number[] = [];
    // A process that has died has no status file; the assertions below say that it died.
    const sampler = setInterval(() => {
      const now = rssOf(worker.pid);
      if (now) samples.push(now.rssMb);
    }, 500);
    chaos.track({ close: () => clearInterval(sampler) });

    const ids = Array.from({ length: JOBS }, (_, i) => `burst-${i}`);
    await producer.enqueueBatch(
      ids.map((id) => job(id, MODEL)),
      { batchId: 'burst' },
    );
    const counters = await producer.waitForBatch('burst', { pollMs: 1_000 });
    const alive = worker.alive();
    const peakMb = rssOf(worker.pid)?.peakMb ?? Number.NaN;
    clearInterval(sampler);
    worker.signal('SIGTERM');
    const exit = await worker.exited;

    expect(alive).toBe(true);
    expect(counters).toMatchObject({ total: JOBS, completed: JOBS, failed: 0 });
    const finished = await finishedJobs(admin, keys);
    expect(finished.length).toBe(JOBS);
    expect(repeated(finished.map((f) => f.id))).toEqual({});
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.max(...samples)).toBeLessThan(PEAK_RSS_MB);
    expect(peakMb).toBeLessThan(PEAK_RSS_MB);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.lines.map((l) => l.msg)).not.toContain('worker error');
  }, 600_000);
});
