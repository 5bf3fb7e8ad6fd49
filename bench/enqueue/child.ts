/**
 * One enqueue of the bulk-enqueue bench, in a process of its own so its peak RSS and CPU are
 * its alone: the harness passes an {@link EnqueueSpec} as JSON in the first argument, and gets
 * an {@link EnqueueReport} back over IPC. Only the enqueue call is timed; building the inputs,
 * connecting and loading modules are not.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type EnqueueReport, EnqueueSpecSchema, jobId, MODEL_ID, prompt } from './spec.js';

const spec = EnqueueSpecSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
const redis = new Redis(spec.redisUrl);
const ids = Array.from({ length: spec.jobs }, (_, i) => jobId(i));
const MiB = 2 ** 20;

/** Runs `enqueue` once, timed, and reports it. */
async function measure(enqueue: () => Promise<unknown>): Promise<EnqueueReport> {
  const rssBefore = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await enqueue();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    ms,
    cpuMs: (used.user + used.system) / 1000,
    rssBeforeMb: rssBefore / MiB,
    // maxRSS is in KiB.
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

async function baseline(): Promise<EnqueueReport> {
  const queue = new Queue('jobs', { connection: redis, prefix: spec.prefix });
  await queue.waitUntilReady();
  const report = await measure(async () => {
    for (let i = 0; i < ids.length; i += spec.slice) {
      await queue.addBulk(
        ids.slice(i, i + spec.slice).map((id) => ({
          name: 'job',
          data: { id, prompt: prompt(id) },
          opts: { jobId: id },
        })),
      );
    }
  });
  await queue.close();
  return report;
}

async function bedrockJobs(): Promise<EnqueueReport> {
  // Loaded here only: the baseline's process holds BullMQ and nothing of bedrock-jobs.
  const { ConfigSchema } = await import('../../src/config.js');
  const { createProducer } = await import('../../src/queue/producer.js');
  const config = ConfigSchema.parse({
    prefix: spec.prefix,
    chains: { default: [MODEL_ID] },
    models: { [MODEL_ID]: { rpm: 1e9, tpm: 1e12 } },
  });
  const producer = createProducer({ redis, prefix: spec.prefix, config, sliceSize: spec.slice });
  const jobs = ids.map((id) => ({
    id,
    task: 'generate' as const,
    messages: [{ role: 'user' as const, content: prompt(id) }],
    params: { maxTokens: 64 },
  }));
  const report = await measure(() => producer.enqueueBatch(jobs, { batchId: 'bench-enqueue' }));
  await producer.close();
  return report;
}

const report = spec.enqueuer === 'baseline' ? await baseline() : await bedrockJobs();
await redis.quit();
process.send?.(report);
process.disconnect?.();
