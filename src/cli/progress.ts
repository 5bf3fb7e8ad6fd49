import { z } from 'zod';
import type { BatchCounters } from '../results/record.js';
import { SECOND } from '../units.js';
import { type ProgressSnapshot, progressLine } from './progress-layout.js';
import { createTerminalView, type TerminalStream } from './terminal-view.js';

/** Counters of a batch, with its running and waiting jobs when the caller knows them. */
export type ProgressCounters = BatchCounters & { active?: number; waiting?: number };

/** Where a command shows a batch's progress. */
export interface ProgressView {
  /** True on a terminal: a live bar, with notices above it. */
  readonly live: boolean;
  update(counters: ProgressCounters, perModel: Readonly<Record<string, number>>): void;
  /** A whole line above the bar (a model's breaker opened, ...); only a terminal shows it. */
  notice(line: string): void;
  /** Leaves the bar as last drawn and moves below it. Idempotent. */
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
    stream: z.custom<TerminalStream & NodeJS.WritableStream>().default(() => process.stdout),
  })
  .strict();
/** Options of {@link createProgress}. */
export type ProgressOptions = z.input<typeof ProgressOptionsSchema>;

/**
 * A progress bar that fits the terminal (done/failed/total, rate, ETA and jobs per model),
 * with notices as whole lines above it; a JSON line at most every `intervalMs` otherwise (or
 * with --json), so logs and machines get progress too.
 */
export function createProgress(input: ProgressOptions): ProgressView {
  const options = ProgressOptionsSchema.parse(input);
  const { now, stream } = options;
  const started = now();
  if (options.json || !options.tty) {
    let last = 0;
    return {
      live: false,
      update(c, perModel) {
        const t = now();
        const finished = c.completed + c.failed >= c.total;
        if (!finished && t - last < options.intervalMs) return;
        last = t;
        const elapsed = (t - started) / 1000;
        const rate = elapsed > 0 ? (c.completed + c.failed) / elapsed : 0;
        stream.write(
          `${JSON.stringify({ progress: { ...c, ratePerSec: Number(rate.toFixed(2)), perModel } })}\n`,
        );
      },
      notice() {},
      stop() {},
    };
  }
  const terminal = createTerminalView(stream);
  let first: { at: number; done: number } | undefined;
  return {
    live: true,
    update(c, perModel) {
      const t = now();
      first ??= { at: t, done: c.completed + c.failed };
      const snapshot: ProgressSnapshot = {
        total: c.total,
        completed: c.completed,
        failed: c.failed,
        ...(c.active !== undefined && c.waiting !== undefined
          ? { queue: { active: c.active, waiting: c.waiting } }
          : {}),
        perModel: { ...perModel },
        doneAtStart: first.done,
        elapsedMs: t - first.at,
      };
      terminal.show((columns) => progressLine(snapshot, columns));
    },
    notice: (line) => terminal.print(line),
    stop: () => terminal.finish(),
  };
}
