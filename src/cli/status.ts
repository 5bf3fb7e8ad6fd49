import { Queue } from 'bullmq';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import type { QueuedJob } from '../queue/jobs.js';
import { keysFor } from '../redis/keys.js';
import { ResultStore } from '../results/store.js';
import { type CliContext, CliError, untilSignal } from './context.js';

export interface BatchStatus {
  batchId: string;
  total: number;
  completed: number;
  failed: number;
  waiting: number;
  active: number;
}

/** Counters of a batch plus how many of its jobs are running now and how many still wait. */
export async function batchStatus(
  queue: Queue<QueuedJob>,
  store: ResultStore,
  batchId: string,
): Promise<BatchStatus | undefined> {
  const counters = await store.batch(batchId);
  if (!counters) return undefined;
  // Active jobs are few (workers × concurrency), so scanning them is cheap; waiting is the rest.
  const active = (await queue.getJobs(['active'])).filter((j) => j.data?.batchId === batchId).length;
  const waiting = Math.max(0, counters.total - counters.completed - counters.failed - active);
  return {
    batchId,
    total: counters.total,
    completed: counters.completed,
    failed: counters.failed,
    waiting,
    active,
  };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('queue counts, or one batch: total, completed, failed, waiting, active')
    .argument('[batchId]', 'a batch id')
    .option('--watch', 'print again every second until interrupted or the batch is done')
    .action(async (batchId: string | undefined, o: { watch?: boolean }) => {
      const config = ctx.config();
      const keys = keysFor(config.prefix);
      const redis = new Redis(config.redisUrl);
      const queue = new Queue<QueuedJob>(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
      const store = new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds });
      const stop = new AbortController();
      if (o.watch) void untilSignal().then(() => stop.abort());
      try {
        do {
          if (batchId) {
            const s = await batchStatus(queue, store, batchId);
            if (!s) throw new CliError(`no batch ${batchId}`, 1);
            if (ctx.json()) ctx.emit(s);
            else
              ctx.out(
                `batch ${s.batchId}: ${s.completed} completed, ${s.failed} failed, ${s.active} active, ${s.waiting} waiting of ${s.total}`,
              );
            if (s.completed + s.failed >= s.total) break;
          } else {
            const counts = await queue.getJobCounts(
              'waiting',
              'active',
              'delayed',
              'prioritized',
              'waiting-children',
              'completed',
              'failed',
            );
            if (ctx.json()) ctx.emit({ queue: keys.queueName, ...counts });
            else
              ctx.out(
                Object.entries(counts)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', '),
              );
          }
          if (o.watch) await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
        } while (o.watch && !stop.signal.aborted);
      } finally {
        await queue.close();
        await redis.quit();
      }
      process.exit(process.exitCode ?? 0);
    });
}
