import type { Command } from 'commander';
import { ModelCatalog } from '../models/catalog.js';
import type { CliContext } from './context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('models')
    .description('list the model catalog: family, context window, max output, prices, default quotas')
    .action(() => {
      const models = new ModelCatalog(ctx.config().customModels).list();
      if (ctx.json()) return ctx.emit(models);
      for (const m of models) {
        ctx.out(
          `${m.id.padEnd(44)} ${m.family.padEnd(9)} ctx ${String(m.contextWindow).padStart(7)}  out ${String(m.maxOutputTokens).padStart(6)}  $${m.priceInPer1k}/$${m.priceOutPer1k} per 1K  ${m.rpm} rpm ${m.tpm} tpm${m.profileOnly ? '  (profile only)' : ''}`,
        );
      }
    });
}
