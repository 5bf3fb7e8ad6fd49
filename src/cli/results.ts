import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { type Command, Option } from 'commander';
import { BatchIdSchema } from '../queue/ids.js';
import { checkLogin } from '../redis/checks.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { type ExportFormat, streamResults } from '../results/export.js';
import { ResultStore } from '../results/store.js';
import { type CliContext, CliError } from './context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('results')
    .description('stream the results of a batch, one row per job (never the whole batch in memory)')
    .argument('<batchId>', 'a batch id')
    .addOption(
      new Option(
        '--format <format>',
        'jsonl: one result record per line; csv: id, status, model, tokens, cost, text',
      )
        .choices(['jsonl', 'csv'])
        .default('jsonl'),
    )
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (batchId: string, o: { format: ExportFormat; out?: string }) => {
      const parsed = BatchIdSchema.safeParse(batchId);
      if (!parsed.success) throw new CliError(`batch id: ${parsed.error.issues[0]?.message}`);
      const config = ctx.config();
      const keys = keysFor(config.prefix);
      const redis = connectRedis(config.redisUrl, config.redis);
      redis.on('error', (err) => ctx.logger().debug({ err }, 'redis connection error'));
      try {
        await checkLogin(redis);
        const store = new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds });
        if (!(await store.batch(batchId))) throw new CliError(`no batch ${batchId}`, 1);
        await pipeline(
          streamResults(store, batchId, { format: o.format }),
          o.out ? createWriteStream(o.out) : process.stdout,
        );
      } finally {
        await redis.quit();
      }
    });
}
