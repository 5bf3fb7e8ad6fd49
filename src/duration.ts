import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** One or more `<number><unit>` parts, largest unit first by convention: `10m`, `1h30m`, `90s`, `250ms`. */
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;

/** Milliseconds of `text`, or undefined when it is not a duration. */
function toMs(text: string): number | undefined {
  PART.lastIndex = 0;
  let total = 0;
  let matched = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
    matched = PART.lastIndex;
  }
  return matched === text.length && matched > 0 ? Math.round(total) : undefined;
}

/**
 * A duration as people type it on a command line: `10m`, `90s`, `1h30m`, `250ms` (a unit is
 * required, so `10` is never silently seconds or milliseconds). Parses to milliseconds, at
 * least 1.
 */
export const DurationSchema = z.string().transform((text, ctx) => {
  const ms = toMs(text.trim());
  if (ms === undefined || ms < 1) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text.slice(0, 40)}" is not a duration; write e.g. 10m, 90s, 1h30m or 500ms`,
    });
    return z.NEVER;
  }
  return ms;
});

/** `ms` the way {@link DurationSchema} reads it back: `10m`, `1h30m`, `1m30s`, `1.5s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms % 1_000 !== 0 && ms < 60_000) return `${Number((ms / 1_000).toFixed(3))}s`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000);
  for (const [unit, seconds] of [
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / seconds);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * seconds;
  }
  return parts.join('');
}
