import { Queue } from 'bullmq';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { batchStatus } from '../queue/batch-status.js';
import { BatchIdSchema } from '../queue/ids.js';
import type { QueuedJob } from '../queue/jobs.js';
import { keysFor } from '../redis/keys.js';
import { ResultStore } from '../results/store.js';
import { type CliContext, CliError, untilSignal } from './context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('queue counts, or one batch: total, completed, failed, waiting, active')
    .argument('[batchId]', 'a batch id')
    .option('--watch', 'print again every second until interrupted or the batch is done')
    .action(async (batchId: string | undefined, o: { watch?: boolean }) => {
      if (batchId !== undefined) {
        const parsed = BatchIdSchema.safeParse(batchId);
        if (!parsed.success) throw new CliError(`batch id: ${parsed.error.issues[0]?.message}`);
      }
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
            const s = await batchStatus(redis, keys, store, batchId);
            if (!s) throw new CliError(`no batch ${batchId}`, 1);
            if (ctx.json()) ctx.emit(s);
            else
              ctx.out(
                `batch ${s.batchId}: ${s.completed} completed, ${s.failed} failed, ${s.active} active, ${s.waiting} waiting of ${s.total}${s.missing > 0 ? `; ${s.missing} never reached the queue (enqueue the batch again to add them)` : ''}`,
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
