import type { Command } from 'commander';
import { loadConfig, redactedConfig } from '../config.js';
import type { CliContext } from './context.js';

export function register(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('inspect configuration');
  config
    .command('print')
    .description('print the effective configuration (file + env + defaults) as JSON; secrets redacted')
    .action(() => {
      ctx.out(JSON.stringify(redactedConfig(ctx.config()), null, ctx.json() ? undefined : 2));
    });
  config
    .command('check')
    .description('validate a config file; exit 2 naming each bad field')
    .argument('<file>', 'YAML or JSON config file')
    .action((file: string) => {
      loadConfig({ file });
      ctx.out(`${file}: ok`);
    });
}
