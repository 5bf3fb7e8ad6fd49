import { SingleBar } from 'cli-progress';
import { z } from 'zod';
import { SECOND } from '../config.js';
import type { BatchCounters } from '../results/record.js';

/** Where a command shows a batch's progress. */
export interface ProgressView {
  update(counters: BatchCounters, perModel: Readonly<Record<string, number>>): void;
  stop(): void;
}

/** How progress is shown. */
const ProgressOptionsSchema = z
  .object({
    json: z.boolean().describe('JSON lines instead of a bar (--json)'),
    tty: z.boolean().describe('stdout is a terminal'),
    intervalMs: z
      .number()
      .int()
      .positive()
      .default(2 * SECOND)
      .describe('at most one JSON line this often'),
    // A factory: zod would call a function given as the default itself.
    now: z.custom<() => number>().default(() => () => Date.now()),
  })
  .strict();
/** Options of {@link createProgress}. */
export type ProgressOptions = z.input<typeof ProgressOptionsSchema>;

const shortModel = (id: string) =>
  id.replace(/^(?:[a-z-]+\.)?(?:anthropic|amazon|meta|mistral|cohere)\./, '').replace(/-v\d+(?::\d+)?$/, '');

/**
 * A progress bar with done/failed/total, rate, ETA and per-model counts on a terminal; a
 * JSON line at most every `intervalMs` otherwise (or with --json), so logs and machines get
 * progress too.
 */
export function createProgress(input: ProgressOptions): ProgressView {
  const options = ProgressOptionsSchema.parse(input);
  const { now } = options;
  const started = now();
  if (options.json || !options.tty) {
    let last = 0;
    return {
      update(c, perModel) {
        const t = now();
        const finished = c.completed + c.failed >= c.total;
        if (!finished && t - last < options.intervalMs) return;
        last = t;
        const elapsed = (t - started) / 1000;
        const rate = elapsed > 0 ? (c.completed + c.failed) / elapsed : 0;
        process.stdout.write(
          `${JSON.stringify({ progress: { ...c, ratePerSec: Number(rate.toFixed(2)), perModel } })}\n`,
        );
      },
      stop() {},
    };
  }
  const bar = new SingleBar({
    format:
      ' {bar} {percentage}% | {value}/{total} done, {failed} failed | {rate}/s | ETA {eta_formatted} | {models}',
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    // stdout, with the rest of the command's output; logs go to stderr.
    stream: process.stdout,
    etaBuffer: 50,
  });
  let started_ = false;
  return {
    update(c, perModel) {
      const done = c.completed + c.failed;
      const elapsed = (now() - started) / 1000;
      const payload = {
        failed: c.failed,
        rate: elapsed > 0 ? (done / elapsed).toFixed(1) : '0',
        models: Object.entries(perModel)
          .map(([m, n]) => `${shortModel(m)} ${n}`)
          .join(', '),
      };
      if (!started_) {
        bar.start(Math.max(1, c.total), done, payload);
        started_ = true;
      } else {
        bar.setTotal(Math.max(1, c.total));
        bar.update(done, payload);
      }
    },
    stop() {
      if (started_) bar.stop();
    },
  };
}
