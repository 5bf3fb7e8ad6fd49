/**
 * What the terminal shows, as pure functions of state and width: the one progress line, the
 * live status line of `status --watch`, whole lines wrapped to the width, and the bytes that
 * erase a line the terminal may have re-wrapped after a resize. The shell that writes them is
 * `terminal-view.ts`.
 */

/** A batch as the progress line shows it. */
export interface ProgressSnapshot {
  total: number;
  completed: number;
  failed: number;
  /** Jobs running and waiting now, when the caller knows (`status --watch`). */
  queue?: { active: number; waiting: number };
  /** Jobs served per model id. */
  perModel: Readonly<Record<string, number>>;
  /** Jobs already done when the view first saw the batch: the rate counts only what it saw. */
  doneAtStart: number;
  /** Milliseconds since the view first saw the batch. */
  elapsedMs: number;
}

const BAR_MIN = 10;
const BAR_MAX = 30;
const FULL = '█';
const EMPTY = '░';
const SEP = ' | ';

/** Terminals wrap a line that fills the last column on the next character: stay one short. */
export const usableWidth = (columns: number): number => Math.max(1, Math.floor(columns) - 1);

/**
 * A model id the way a person reads it, in two lengths: level 0 drops the region, provider and
 * version (`claude-3-haiku-20240307`), level 1 also a date stamp and `-instruct`/`-chat`
 * (`claude-3-haiku`).
 */
export function shortModelName(id: string, level: 0 | 1 = 0): string {
  const name = id
    .replace(/^arn:[^/]*\//, '')
    .replace(/^(?:[a-z]{2,4}\.)?(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|writer)\./, '')
    .replace(/(?:-v\d+)?(?::\d+)?$/, '');
  if (level === 0) return name;
  return name.replace(/-\d{8}(?=-|$)/g, '').replace(/-(?:instruct|chat)(?=-|$)/g, '') || name;
}

/** `m:ss`, or `h:mm:ss` from an hour on. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** The models part: top `count` models by jobs, names at `level`, the rest as `+n`. */
function modelsPart(perModel: Readonly<Record<string, number>>, level: 0 | 1, count: number): string {
  const sorted = Object.entries(perModel).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = sorted.slice(0, count).map(([id, n]) => `${shortModelName(id, level)} ${n}`);
  const rest = sorted.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} +${rest}` : shown.join(', ');
}

/** The text after the bar, from the most detailed variant to the barest, in the order parts give way. */
function textVariants(s: ProgressSnapshot): string[] {
  const done = s.completed + s.failed;
  const pct = `${String(s.total > 0 ? Math.floor((100 * done) / s.total) : 100).padStart(3)}%`;
  const counts = `${done}/${s.total} done, ${s.failed} failed`;
  const seen = done - s.doneAtStart;
  const rate = s.elapsedMs > 0 && seen > 0 ? (1000 * seen) / s.elapsedMs : 0;
  const ratePart = rate > 0 ? `${rate.toFixed(1)}/s` : undefined;
  const etaPart = rate > 0 && done < s.total ? `ETA ${formatDuration((s.total - done) / rate)}` : undefined;
  const queuePart = s.queue ? `${s.queue.active} active, ${s.queue.waiting} waiting` : undefined;
  const models = Object.keys(s.perModel).length;
  const join = (...parts: (string | undefined)[]) =>
    [`${pct}${SEP}${parts[0]}`, ...parts.slice(1).filter((p) => p !== undefined && p !== '')].join(SEP);

  const variants: string[] = [];
  // The per-model part gives way first: shorter names, fewer models, then none.
  const modelVariants: string[] = [];
  if (models > 0) {
    modelVariants.push(modelsPart(s.perModel, 0, models));
    for (let n = models; n >= 1; n--) modelVariants.push(modelsPart(s.perModel, 1, n));
  }
  for (const m of modelVariants) variants.push(join(counts, ratePart, etaPart, queuePart, m));
  variants.push(join(counts, ratePart, etaPart, queuePart));
  // Then the queue, the rate and the ETA, then the words around the counts.
  variants.push(join(counts, ratePart, etaPart));
  variants.push(join(counts, etaPart));
  variants.push(join(counts));
  variants.push(`${pct} ${done}/${s.total}${s.failed > 0 ? ` ${s.failed} failed` : ''}`);
  return variants;
}

function bar(width: number, fraction: number): string {
  const full = Math.round(width * Math.min(1, Math.max(0, fraction)));
  return FULL.repeat(full) + EMPTY.repeat(width - full);
}

/**
 * The progress line for a terminal `columns` wide: a bar, percent, done/failed/total, rate,
 * ETA and jobs per model. It is never wider than {@link usableWidth}: the per-model part
 * gives way first (shorter names, fewer models, none), then the queue, rate and ETA; then the
 * bar shrinks below its minimum and goes; what is left is cut.
 */
export function progressLine(s: ProgressSnapshot, columns: number): string {
  const width = usableWidth(columns);
  const fraction = s.total > 0 ? (s.completed + s.failed) / s.total : 1;
  const variants = textVariants(s);
  for (const text of variants) {
    const room = width - text.length - 1;
    if (room >= BAR_MIN) return `${bar(Math.min(BAR_MAX, room), fraction)} ${text}`;
  }
  const barest = variants.at(-1) ?? '';
  const room = width - barest.length - 1;
  if (room >= 3) return `${bar(room, fraction)} ${barest}`;
  return barest.slice(0, width);
}

/**
 * The live line of `status --watch` without a batch: the queue's counts, those at zero left
 * out when the line would not fit, then cut to the width.
 */
export function countsLine(counts: Readonly<Record<string, number>>, columns: number): string {
  const width = usableWidth(columns);
  const all = Object.entries(counts).map(([k, v]) => `${k} ${v}`);
  const line = all.join(', ');
  if (line.length <= width) return line;
  const nonZero = Object.entries(counts)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (nonZero || 'idle').slice(0, width);
}

/**
 * A whole line for above the bar, wrapped at spaces to the width; continuation lines are
 * indented two spaces further than the line and a word longer than the width is cut into pieces.
 */
export function wrapLine(text: string, columns: number): string[] {
  const width = usableWidth(columns);
  // A line's own indent is kept, and continuation lines go two further in, while that leaves room.
  const lead = (text.match(/^ */)?.[0] ?? '').slice(0, Math.max(0, width - 1));
  const indent = width - lead.length > 10 ? `${lead}  ` : lead;
  const lines: string[] = [];
  let current = lead;
  let start = lead;
  const push = () => {
    lines.push(current);
    current = indent;
    start = indent;
  };
  for (const word of text.slice(lead.length).split(' ')) {
    const sep = current === start ? '' : ' ';
    if (current.length + sep.length + word.length <= width) {
      current += sep + word;
      continue;
    }
    if (current !== start) push();
    let rest = word;
    while (current.length + rest.length > width) {
      const take = width - current.length;
      current += rest.slice(0, take);
      rest = rest.slice(take);
      push();
    }
    current += rest;
  }
  if (current !== start || lines.length === 0) lines.push(current);
  return lines;
}

/**
 * Bytes that erase the live line, drawn `drawnLength` characters long, with the cursor at its
 * end, on a terminal now `columns` wide. A terminal made narrower than the line re-wraps it
 * over several rows (tmux, VTE, iTerm2, kitty, Windows Terminal do) and leaves the cursor on
 * the last: each of those rows is cleared, so no stale piece stays above the new line.
 */
export function eraseLive(drawnLength: number, columns: number): string {
  const rows = Math.max(1, Math.ceil(drawnLength / Math.max(1, Math.floor(columns))));
  return `\r\x1b[2K${'\x1b[1A\x1b[2K'.repeat(rows - 1)}`;
}
