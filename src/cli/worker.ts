import { type Command, InvalidArgumentError } from 'commander';
import { PreflightRefusal } from '../queue/preflight.js';
import { startWorker } from '../queue/worker.js';
import { type CliContext, CliError, untilSignal } from './context.js';
import { positiveNumber } from './simulator.js';

/** A TCP port from 1 to 65535. */
function port(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 65_535)
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to 65535`);
    return n;
  };
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description(
      'process jobs until SIGTERM/SIGINT; the first signal finishes active jobs, a second exits at once',
    )
    .option('--concurrency <n>', 'jobs processed at once', positiveNumber('--concurrency'))
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at GET /metrics on this port (worker.metricsPort)',
      port('--metrics-port'),
    )
    .option(
      '--no-preflight',
      'do not ask the Bedrock control plane which chain models are usable (worker.preflight)',
    )
    .option('--strict', 'refuse to start when the preflight finds a chain with no usable model')
    .action(
      async (o: { concurrency?: number; metricsPort?: number; preflight: boolean; strict?: boolean }) => {
        const loaded = ctx.config();
        const config = {
          ...loaded,
          worker: {
            ...loaded.worker,
            ...(o.metricsPort === undefined ? {} : { metricsPort: o.metricsPort }),
            ...(o.preflight ? {} : { preflight: false }),
          },
        };
        const logger = ctx.logger();
        const worker = await startWorker({
          config,
          logger,
          strict: o.strict === true,
          ...(o.concurrency ? { concurrency: o.concurrency } : {}),
        }).catch((e: unknown) => {
          throw e instanceof PreflightRefusal ? new CliError(e.message, 1) : e;
        });
        // Beside the jobs: the offline lanes of sealed batches (docs/offline-lane.md). Loaded here,
        // not at the top: the S3 client would add to the start of every other command.
        const { startOfflineCoordinator } = await import('../offline/coordinator.js');
        const offline = await startOfflineCoordinator({
          config,
          logger,
          observer: worker.metrics,
          unusable: worker.unusableModels,
        });
        logger.info(
          {
            concurrency: o.concurrency ?? config.worker.concurrency,
            endpoint: config.endpoint ?? 'aws',
            ...(worker.metricsUrl ? { metrics: worker.metricsUrl } : {}),
          },
          'worker started',
        );
        const signal = await untilSignal();
        logger.info(
          { signal, deadlineMs: config.worker.shutdownTimeoutMs },
          'stopping: finishing active jobs',
        );
        await Promise.all([worker.close(), offline.close()]);
        logger.info('worker stopped');
        // A connection BullMQ still retries (Redis down) would hold the process open for ever:
        // the work is handed back, so leave once the log is written.
        logger.flush(() => process.exit(0));
      },
    );
}
