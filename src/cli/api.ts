import { isIP } from 'node:net';
import type { Command } from 'commander';
import { buildApi } from '../api/server.js';
import { hasApiTokens } from '../api/tokens.js';
import { type CliContext, CliError, untilSignal } from './context.js';
import { positiveNumber } from './simulator.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('api')
    .description('HTTP API: enqueue jobs and batches, read results, model catalog, /metrics, /healthz')
    .option('--port <port>', 'port to listen on', positiveNumber('--port'), 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--insecure-no-auth',
      'allow listening beyond loopback without API_TOKEN (anyone who reaches it can spend money)',
    )
    .action(async (o: { port: number; host: string; insecureNoAuth?: boolean }) => {
      const logger = ctx.logger();
      const config = ctx.config();
      const auth = hasApiTokens(config);
      if (!auth) {
        if (!isLoopback(o.host) && !o.insecureNoAuth) {
          throw new CliError(
            `refusing to listen on ${o.host} without API_TOKEN or API_TOKENS: anyone who reaches it could enqueue jobs and read every result; set API_TOKEN or API_TOKENS (or apiToken / api.tokens in the config), or pass --insecure-no-auth`,
          );
        }
        logger.warn({ host: o.host }, 'no API token is set: every route answers without authentication');
      }
      const api = await buildApi({ config, logger });
      const address = await api.app.listen({ port: o.port, host: o.host });
      logger.info({ address, auth }, 'api listening');
      await untilSignal();
      await api.close();
    });
}

/** Whether `host` only accepts connections from this machine. */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
