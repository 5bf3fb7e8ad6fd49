import type { Command } from 'commander';
import { startWorker } from '../queue/worker.js';
import { type CliContext, untilSignal } from './context.js';
import { positiveNumber } from './simulator.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description(
      'process jobs until SIGTERM/SIGINT; the first signal finishes active jobs, a second exits at once',
    )
    .option('--concurrency <n>', 'jobs processed at once', positiveNumber('--concurrency'))
    .action(async (o: { concurrency?: number }) => {
      const config = ctx.config();
      const logger = ctx.logger();
      const worker = await startWorker({
        config,
        logger,
        ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      });
      logger.info(
        { concurrency: o.concurrency ?? config.worker.concurrency, endpoint: config.endpoint ?? 'aws' },
        'worker started',
      );
      const signal = await untilSignal();
      logger.info({ signal, deadlineMs: config.worker.shutdownTimeoutMs }, 'stopping: finishing active jobs');
      await worker.close();
      logger.info('worker stopped');
      // A connection BullMQ still retries (Redis down) would hold the process open for ever:
      // the work is handed back, so leave once the log is written.
      logger.flush(() => process.exit(0));
    });
}
