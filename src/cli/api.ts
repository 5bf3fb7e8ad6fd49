import type { Command } from 'commander';
import { buildApi } from '../api/server.js';
import { type CliContext, untilSignal } from './context.js';
import { positiveNumber } from './simulator.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('api')
    .description('HTTP API: enqueue jobs and batches, read results, model catalog, /metrics, /healthz')
    .option('--port <port>', 'port to listen on', positiveNumber('--port'), 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .action(async (o: { port: number; host: string }) => {
      const logger = ctx.logger();
      const api = await buildApi({ config: ctx.config(), logger });
      const address = await api.app.listen({ port: o.port, host: o.host });
      logger.info({ address, auth: Boolean(ctx.config().apiToken) }, 'api listening');
      await untilSignal();
      await api.close();
    });
}
