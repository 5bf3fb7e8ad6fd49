import { type Command, InvalidArgumentError } from 'commander';
import { loadProfile, startSimulatorWithProfile } from '../simulator/index.js';
import { type CliContext, untilSignal } from './context.js';

export const positiveNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

export function register(program: Command, ctx: CliContext): void {
  program
    .command('simulator')
    .description('run the Bedrock-compatible simulator (HTTP/2 and HTTP/1.1 on one port)')
    .option('--port <port>', 'port to listen on', positiveNumber('--port'), 4010)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--profile <name|file>',
      'steady, throttled, primary-outage, flapping, chaos, zero, or a YAML/JSON file',
      'steady',
    )
    .option('--time-scale <n>', 'divide latency and quota windows by n', positiveNumber('--time-scale'))
    .option('--seed <n>', 'seed for reproducible answers and faults', positiveNumber('--seed'))
    .action(async (o: { port: number; host: string; profile: string; timeScale?: number; seed?: number }) => {
      const profile = loadProfile(o.profile);
      const sim = await startSimulatorWithProfile({
        port: o.port,
        host: o.host,
        profile,
        ...(o.timeScale ? { timeScale: o.timeScale } : {}),
        ...(o.seed ? { seed: o.seed } : {}),
      });
      if (ctx.json()) ctx.emit({ url: sim.url, profile: o.profile });
      else
        ctx.out(`simulator listening on ${sim.url} (profile ${o.profile}); admin API under ${sim.url}/_sim/`);
      await untilSignal();
      await sim.close();
    });
}
