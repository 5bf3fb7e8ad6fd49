import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { DEFAULT_CHAIN, DEFAULT_PREFIX, loadConfig } from '../config.js';
import { createLogger, redactUrlCredentials } from '../log.js';
import { ModelCatalog } from '../models/catalog.js';
import { createProducer } from '../queue/producer.js';
import { startWorker } from '../queue/worker.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { readFleetState } from '../resilience/fleet-view.js';
import type { LaneTotals } from '../results/batch-state.js';
import { ResultStore } from '../results/store.js';
import { BatchTallier } from '../results/tally.js';
import { loadProfile, startSimulatorWithProfile } from '../simulator/index.js';
import { HOUR } from '../units.js';
import type { CliContext } from './context.js';
import { findRedis } from './find-redis.js';
import { readJobs } from './input.js';
import { createProgress } from './progress.js';
import { positiveNumber } from './simulator.js';
import { lineSink, showHealth } from './view-feeds.js';
import { watchBatch } from './watch-batch.js';

/** Seconds rather than minutes per status: the corpus's invocation jobs end within the demo. */
const DEMO_BATCH_TIMING = { submittedMs: 2_000, validatingMs: 2_000, scheduledMs: 4_000, perRecordMs: 20 };
/** The simulator checks a role ARN's form only. */
const DEMO_ROLE_ARN = 'arn:aws:iam::123456789012:role/bedrock-jobs-demo';

/** The cost of each lane side by side, and what the offline part would have cost online. */
export function laneTable(lanes: LaneTotals, invocationJobs: number): string[] {
  const { online, offline } = lanes;
  const usd = (n: number) => `$${n.toFixed(4)}`;
  const saved = offline.onlineCostUsd - offline.costUsd;
  return [
    '',
    '  lane           jobs     cost      at on-demand prices',
    `  online      ${String(online.completed + online.failed).padStart(7)}  ${usd(online.costUsd).padStart(9)}  ${usd(online.costUsd).padStart(9)}`,
    `  offline     ${String(offline.completed + offline.failed).padStart(7)}  ${usd(offline.costUsd).padStart(9)}  ${usd(offline.onlineCostUsd).padStart(9)}  (${invocationJobs} invocation job${invocationJobs === 1 ? '' : 's'})`,
    `  total       ${String(online.completed + online.failed + offline.completed + offline.failed).padStart(7)}  ${usd(online.costUsd + offline.costUsd).padStart(9)}  ${usd(online.costUsd + offline.onlineCostUsd).padStart(9)}  (saved ${usd(saved)})`,
  ];
}

/** The default chain's first model: the demo's outage shows the chain falling back. */
const PRIMARY = DEFAULT_CHAIN[0];
const CORPUS = join(import.meta.dirname, '..', '..', 'examples', 'corpus');

export function register(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'simulator + worker in one process: summarize the sample corpus, with a primary-model outage half-way',
    )
    .option('--corpus <dir>', 'documents to summarize', CORPUS)
    .option('--concurrency <n>', 'jobs at once', positiveNumber('--concurrency'), 32)
    .option('--time-scale <n>', 'simulated latency divided by n', positiveNumber('--time-scale'), 4)
    .option(
      '--prefix <prefix>',
      'Redis key prefix of the demo (its queue, results and fleet state)',
      DEFAULT_PREFIX,
    )
    .addOption(
      new Option(
        '--lane <lane>',
        'online (with an outage half-way), or offline: the corpus through batch inference, the cost of both lanes side by side',
      )
        .choices(['online', 'offline'])
        .default('online'),
    )
    .action(
      async (o: { corpus: string; concurrency: number; timeScale: number; prefix: string; lane: string }) => {
        const offline = o.lane === 'offline';
        const started = performance.now();
        const catalog = new ModelCatalog();
        // On a terminal everything this process prints goes through the view, above the bar.
        const view = createProgress({ json: ctx.json(), tty: process.stdout.isTTY === true });
        const say = (line: string) =>
          ctx.json() ? ctx.emit({ event: line }) : view.live ? view.notice(line) : ctx.out(line);
        const redisFound = await findRedis();
        say(`redis: ${redisFound.source}`);
        // Offline, invocation jobs spend seconds rather than minutes in each status.
        const profile = offline
          ? { ...loadProfile('steady'), batch: DEMO_BATCH_TIMING }
          : loadProfile('steady');
        const sim = await startSimulatorWithProfile({ profile, timeScale: o.timeScale, seed: 7 });
        say(`simulator: ${sim.url} (profile steady, time scale ${o.timeScale})`);
        const config = loadConfig({
          env: {},
          overrides: {
            redisUrl: redisFound.url,
            prefix: o.prefix,
            endpoint: sim.url,
            resultTtlSeconds: 3600,
            // The simulator's quota windows are scaled down by the time scale; the fleet limiter follows suit.
            models: Object.fromEntries(
              catalog
                .list()
                .map((m) => [
                  m.id,
                  { rpm: Math.round(m.rpm * o.timeScale), tpm: Math.round(m.tpm * o.timeScale) },
                ]),
            ),
            logLevel: 'warn',
            policy: {
              retry: { maxAttempts: 2, baseDelayMs: 100, throttleBaseDelayMs: 250, maxDelayMs: 2_000 },
              breaker: { consecutiveFailures: 5, halfOpenAfterMs: 5_000 },
            },
            worker: {
              concurrency: o.concurrency,
              shutdownTimeoutMs: 10_000,
              jobAttempts: 3,
              busyBackoffMs: 250,
            },
            offline: {
              bucket: 'bedrock-jobs-demo',
              roleArn: DEMO_ROLE_ARN,
              createBucket: true,
              pollIntervalMs: 250,
              maxPollIntervalMs: 1_000,
            },
          },
        });
        // A terminal shows the breakers as notices; only errors are logged there, above the bar too.
        const logger = view.live
          ? createLogger({ level: 'error', destination: lineSink((line) => view.notice(line)) })
          : createLogger({ level: 'warn', destination: process.stderr });
        // The demo's results live an hour: a Redis that keeps nothing on disk is fine for it.
        const worker = await startWorker({ config, logger, checkPersistence: false });
        const coordinator = offline
          ? // Loaded only for this lane: the S3 client would add to the start of every command.
            await (await import('../offline/coordinator.js')).startOfflineCoordinator({
              config,
              logger,
              observer: worker.metrics,
            })
          : undefined;
        const stopHealth = view.live ? showHealth(worker.breakers.events, view) : () => {};
        const producer = createProducer({ redis: config.redisUrl, config, logger });
        const redis = connectRedis(config.redisUrl, config.redis);
        try {
          const batchId = `demo-${randomUUID().slice(0, 8)}`;
          const lane = offline
            ? {
                lane: 'offline' as const,
                deadline: new Date(Date.now() + config.offline.deadlineHours * HOUR).toISOString(),
              }
            : {};
          let jobs = 0;
          let slice: Record<string, unknown>[] = [];
          for await (const { job } of readJobs(o.corpus, batchId)) {
            slice.push(job);
            if (slice.length === 100) {
              jobs += (await producer.enqueueBatch(slice as never, { batchId, open: true, ...lane }))
                .enqueued;
              slice = [];
            }
          }
          if (slice.length > 0)
            jobs += (await producer.enqueueBatch(slice as never, { batchId, ...lane })).enqueued;
          else await producer.sealBatch(batchId);
          say(
            `enqueued ${jobs} documents as batch ${batchId} (chain: ${config.chains.default?.join(' → ')}${offline ? '; lane offline' : ''})`,
          );

          let injected = false;
          const final = await watchBatch(ctx, producer, batchId, {
            config,
            view,
            fleetNotices: false,
            onCounters: (c) => {
              if (!offline && !injected && c.completed + c.failed >= c.total / 2) {
                injected = true;
                sim.admin.addFault({ model: PRIMARY, outage: true });
                say(`outage injected: ${PRIMARY} answers 503 from now on`);
              }
            },
          });
          view.stop();
          const keys = keysFor(config.prefix);
          const tally = await new BatchTallier(
            redis,
            new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: 3600 }),
            keys,
            batchId,
          ).refresh();
          const stats = sim.admin.stats();
          const lanes = (await new ResultStore(redis, { prefix: keys.prefix }).state(batchId))?.lanes;
          const rates = (await readFleetState(redis, config, catalog)).flatMap((f) =>
            f.rate ? [{ model: f.modelId, rpm: Math.round(f.rate.rpm), quotaRpm: f.rate.quota.rpm }] : [],
          );
          const table = {
            batchId,
            documents: final.total,
            completed: final.completed,
            failed: final.failed,
            perModel: tally.perModel,
            fallbacks: tally.fallbacks,
            throttledCalls: stats.total.throttled,
            callsToSimulator: stats.total.calls,
            throttledShare:
              stats.total.calls > 0 ? Number((stats.total.throttled / stats.total.calls).toFixed(4)) : 0,
            rates,
            inputTokens: tally.inputTokens,
            outputTokens: tally.outputTokens,
            costUsd: Number(tally.costUsd.toFixed(4)),
            ...(lanes ? { lanes } : {}),
            invocationJobs: stats.batch.total.jobsCreated,
            wallSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
          };
          if (ctx.json()) ctx.emit({ summary: table });
          else {
            ctx.out('');
            ctx.out(
              `  documents      ${table.completed}/${table.documents} completed, ${table.failed} failed`,
            );
            for (const [model, n] of Object.entries(table.perModel).sort((a, b) => b[1] - a[1]))
              ctx.out(`  ${model.padEnd(45)} ${String(n).padStart(5)}`);
            ctx.out(
              `  fallbacks      ${table.fallbacks}${offline ? '' : ' (primary outage injected half-way)'}`,
            );
            ctx.out(
              `  throttled      ${table.throttledCalls} calls of ${table.callsToSimulator} (${(table.throttledShare * 100).toFixed(1)} %)`,
            );
            for (const r of table.rates)
              ctx.out(`  rate now       ${r.model}: ${r.rpm} of ${r.quotaRpm} rpm`);
            ctx.out(`  tokens         ${table.inputTokens} in, ${table.outputTokens} out`);
            ctx.out(`  cost           $${table.costUsd.toFixed(4)}`);
            if (offline && lanes) for (const line of laneTable(lanes, table.invocationJobs)) ctx.out(line);
            ctx.out(`  wall time      ${table.wallSeconds} s`);
            ctx.out(`  results        bedrock-jobs results ${batchId} --format csv`);
            ctx.out(
              `                 (with REDIS_URL=${redactUrlCredentials(config.redisUrl)}; kept for 1 hour)`,
            );
            // Only a config file sets the prefix: say so when the demo ran under its own.
            if (config.prefix !== DEFAULT_PREFIX)
              ctx.out(`                 (and a config with prefix: ${JSON.stringify(config.prefix)})`);
          }
          if (final.failed > 0) process.exitCode = 3;
        } finally {
          stopHealth();
          view.stop();
          await worker.close({ deadlineMs: 5_000 });
          await coordinator?.close();
          await producer.close();
          await redis.quit();
          await sim.close();
          await redisFound.stop();
        }
      },
    );
}
