import { eraseLive, wrapLine } from './progress-layout.js';

/** The part of a TTY write stream the view uses (`process.stdout` on a terminal). */
export interface TerminalStream {
  /** Width in columns; undefined when the terminal does not say. */
  readonly columns?: number | undefined;
  write(chunk: string): boolean;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

/** One live line at the bottom of a terminal, with whole lines printed above it. */
export interface TerminalView {
  /** What the live line shows, as a function of the width: drawn now, and again on every resize. */
  show(render: (columns: number) => string): void;
  /** A whole line above the live line, wrapped to the width. */
  print(text: string): void;
  /** Leaves the live line as last drawn and moves to a clean line below it. Idempotent. */
  finish(): void;
}

/** Width when the terminal does not say. */
const DEFAULT_COLUMNS = 80;

/**
 * The thin shell around `progress-layout.ts`: it owns the cursor's line. Each draw erases the
 * previous live line (every row of it, should a narrowing terminal have re-wrapped it) and
 * writes the new one without a newline, in one write; lines printed above it go first. The
 * layout keeps the live line shorter than the terminal, so it never wraps by itself.
 */
export function createTerminalView(stream: TerminalStream): TerminalView {
  const columns = () => (stream.columns && stream.columns > 0 ? stream.columns : DEFAULT_COLUMNS);
  let render: ((columns: number) => string) | undefined;
  let drawn: string | undefined;
  let finished = false;
  const erase = () => (drawn === undefined ? '' : eraseLive(drawn.length, columns()));
  const draw = (before = '') => {
    if (finished) return;
    const line = render?.(columns());
    stream.write(`${erase()}${before}${line ?? ''}`);
    drawn = line;
  };
  const onResize = () => draw();
  stream.on('resize', onResize);
  return {
    show(next) {
      render = next;
      draw();
    },
    print(text) {
      const lines = text.split('\n').flatMap((l) => wrapLine(l, columns()));
      if (finished) stream.write(`${lines.join('\n')}\n`);
      else draw(`${lines.join('\n')}\n`);
    },
    finish() {
      if (finished) return;
      finished = true;
      stream.off('resize', onResize);
      if (drawn !== undefined) stream.write('\n');
    },
  };
}
