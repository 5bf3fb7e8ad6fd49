import { Queue } from 'bullmq';
import type { Command } from 'commander';
import { systemClock } from '../clock.js';
import { DurationSchema } from '../duration.js';
import { ModelCatalog } from '../models/catalog.js';
import { type OfflineView, offlineView } from '../offline/view.js';
import { batchStatus } from '../queue/batch-status.js';
import { BatchIdSchema } from '../queue/ids.js';
import type { QueuedJob } from '../queue/jobs.js';
import { readPreflight } from '../queue/preflight-record.js';
import { checkLogin } from '../redis/checks.js';
import { connectRedis } from '../redis/connect.js';
import { keysFor } from '../redis/keys.js';
import { QUEUE_STATES } from '../redis/names.js';
import { type ModelFleetState, readFleetState } from '../resilience/fleet-view.js';
import type { LaneTotals } from '../results/batch-state.js';
import { ResultStore } from '../results/store.js';
import { type CliContext, CliError, untilSignal } from './context.js';
import { describeStats, readShortStats } from './model-stats.js';
import { createProgress } from './progress.js';
import { countsLine } from './progress-layout.js';
import { createTerminalView } from './terminal-view.js';
import { followFleet } from './view-feeds.js';
import { EXIT_NOT_FINISHED, notFinishedError } from './wait-timeout.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('queue counts, or one batch: total, completed, failed, waiting, active, sealed, done')
    .argument('[batchId]', 'a batch id')
    .option('--watch', 'print again every second until interrupted or the batch is done')
    .option(
      '--timeout <duration>',
      `with --watch and a batch: stop after this long (10m, 90s) and exit ${EXIT_NOT_FINISHED}, saying what is unfinished`,
    )
    .action(async (batchId: string | undefined, o: { watch?: boolean; timeout?: string }) => {
      if (batchId !== undefined) {
        const parsed = BatchIdSchema.safeParse(batchId);
        if (!parsed.success) throw new CliError(`batch id: ${parsed.error.issues[0]?.message}`);
      }
      let timeoutMs: number | undefined;
      if (o.timeout !== undefined) {
        if (!o.watch || batchId === undefined) throw new CliError('--timeout: only with a batch and --watch');
        const parsed = DurationSchema.safeParse(o.timeout);
        if (!parsed.success) throw new CliError(`--timeout: ${parsed.error.issues[0]?.message}`);
        timeoutMs = parsed.data;
      }
      const config = ctx.config();
      const keys = keysFor(config.prefix);
      const redis = connectRedis(config.redisUrl, config.redis);
      redis.on('error', (err) => ctx.logger().debug({ err }, 'redis connection error'));
      // Before BullMQ's queue, which would retry a refused login forever.
      await checkLogin(redis).catch((e: unknown) => {
        redis.disconnect();
        throw e;
      });
      const queue = new Queue<QueuedJob>(keys.queueName, { connection: redis, prefix: keys.bullPrefix });
      // Without a listener BullMQ prints the error whole, with the arguments of a failed AUTH.
      queue.on('error', (err) => ctx.logger().error({ err }, 'queue error'));
      const store = new ResultStore(redis, { prefix: keys.prefix, ttlSeconds: config.resultTtlSeconds });
      const stop = new AbortController();
      if (o.watch) void untilSignal().then(() => stop.abort());
      // The deadline of --timeout; it also cuts the pause between two reads short.
      const expired = new AbortController();
      if (timeoutMs !== undefined)
        void systemClock.sleep(timeoutMs, stop.signal).then(
          () => expired.abort(),
          () => {},
        );
      const pause = AbortSignal.any([stop.signal, expired.signal]);
      // Watching on a terminal: one live line that fits it, breaker changes as lines above it.
      const live = o.watch === true && !ctx.json() && process.stdout.isTTY === true;
      const view = live && batchId ? createProgress({ json: false, tty: true }) : undefined;
      const terminal = live && !batchId ? createTerminalView(process.stdout) : undefined;
      const stopFleet = view
        ? followFleet(redis, config, (line) => view.notice(line))
        : terminal
          ? followFleet(redis, config, (line) => terminal.print(line), { quietStart: true })
          : async () => {};
      let described = false;
      try {
        do {
          if (batchId) {
            const status = await batchStatus(redis, keys, store, batchId);
            if (!status) throw new CliError(`no batch ${batchId}`, 1);
            const offline = await offlineView(redis, keys, batchId);
            const s = { ...status, ...(offline ? { offline } : {}) };
            // Done means sealed too: an open batch whose jobs all finished may still grow.
            const { done } = s;
            if (ctx.json()) ctx.emit(s);
            else if (view && !done) view.update(s, {});
            else {
              if (view) {
                view.update(s, {});
                await stopFleet();
                view.stop();
              }
              ctx.out(
                `batch ${s.batchId}: ${s.completed} completed, ${s.failed} failed, ${s.active} active, ${s.waiting} waiting of ${s.total}${s.missing > 0 ? `; ${s.missing} never reached the queue (enqueue the batch again to add them)` : ''}${s.sealed ? '' : '; open (more jobs may be added)'}${s.callback ? `; callback ${s.callback.status}` : ''}`,
              );
              for (const line of describeLanes(s.lanes, offline)) ctx.out(line);
            }
            if (done) break;
            if (expired.signal.aborted) throw notFinishedError(s, o.timeout ?? '');
          } else {
            const counts = await queue.getJobCounts(...QUEUE_STATES);
            const models = await readFleetState(redis, config, ModelCatalog.of(config));
            const stats = await readShortStats(redis, keys);
            const preflight = await readPreflight(redis, keys);
            if (ctx.json()) ctx.emit({ queue: keys.queueName, ...counts, models, stats, preflight });
            else if (terminal) {
              // The models and their calls once; then their breakers' changes as notices, the counts in place.
              if (!described)
                for (const line of [...models.map(describeModel), ...describeStats(stats)])
                  terminal.print(line);
              described = true;
              terminal.show((columns) => countsLine(counts, columns));
            } else {
              ctx.out(
                Object.entries(counts)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', '),
              );
              for (const m of models) ctx.out(describeModel(m));
              for (const line of describeStats(stats)) ctx.out(line);
            }
          }
          if (o.watch) await systemClock.sleep(1_000, pause).catch(() => {});
        } while (o.watch && !stop.signal.aborted);
      } finally {
        stop.abort();
        await stopFleet();
        view?.stop();
        terminal?.finish();
        await queue.close();
        await redis.quit();
      }
      process.exit(process.exitCode ?? 0);
    });
}

/** A batch's cost per lane, and its invocation jobs when it has an offline lane. */
export function describeLanes(lanes: LaneTotals, offline: OfflineView | undefined): string[] {
  const { online, offline: off } = lanes;
  if (off.completed + off.failed === 0 && !offline) return [];
  const usd = (n: number) => `$${n.toFixed(4)}`;
  const lines = [
    `  online:  ${online.completed} completed, ${online.failed} failed, ${usd(online.costUsd)}`,
    `  offline: ${off.completed} completed, ${usd(off.costUsd)} (online would have cost ${usd(off.onlineCostUsd)})`,
  ];
  for (const j of offline?.invocationJobs ?? [])
    lines.push(
      `  invocation job ${j.part} ${j.modelId}: ${j.records} records, ${j.status ?? 'not created yet'}${j.message ? ` (${j.message})` : ''}; ${j.offline} back, ${j.online} sent online`,
    );
  return lines;
}

/** One line per model: its fleet rate against its quota, and its breaker. */
export function describeModel(m: ModelFleetState): string {
  const rate = m.rate
    ? `${Math.round(m.rate.rpm)} of ${m.rate.quota.rpm} rpm${m.rate.quota.configured ? '' : ' (catalog default)'}`
    : 'no limit';
  const breaker =
    m.breaker.state === 'open'
      ? `breaker open, probe in ${Math.ceil(m.breaker.probeInMs / 1000)} s`
      : 'breaker closed';
  return `  ${m.modelId}: ${rate}, ${breaker}`;
}
