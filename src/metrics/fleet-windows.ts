import { MODEL_ERROR_KINDS, type ModelErrorKind } from '../models/errors.js';

/**
 * The layout of the fleet's stat windows in Redis, shared by the writer (every worker) and the
 * readers (API, CLI). Time is cut into windows of {@link WINDOW_SECONDS} on the fleet's clock;
 * each window is two hashes that every worker adds to with HINCRBY, so a window holds the sum
 * over the fleet and windows add up to any longer span:
 *
 * - `<prefix>:stats:<start>`: per model, its calls by outcome, refusals, answered-call latency
 *   in fixed buckets, and fallbacks to other models. Fields are JSON arrays, so model ids
 *   (which may hold any character) never clash: `["c","ok","<model>"]`,
 *   `["r","circuit_open","<model>"]`, `["l","250","<model>"]`, `["f","<from>","<to>"]`.
 * - `<prefix>:series:<start>`: per second of the window, jobs completed (`c:<second>`), jobs
 *   failed (`f:<second>`) and failed model calls (`e:<second>`), for the whole fleet.
 */

/** Seconds per window. */
export const WINDOW_SECONDS = 10;

/** The start (Unix seconds) of the window holding the time `ms`. */
export function windowStart(ms: number): number {
  const second = Math.floor(ms / 1000);
  return second - (second % WINDOW_SECONDS);
}

/** How a call that reached a model ended. */
export type CallOutcome = 'ok' | ModelErrorKind;

/** Attempts refused before any call was made. */
export type RefusalReason = 'circuit_open' | 'rate_limited';

const OUTCOMES: ReadonlySet<string> = new Set(['ok', ...MODEL_ERROR_KINDS]);
const REASONS: ReadonlySet<string> = new Set(['circuit_open', 'rate_limited']);

/** One counter of a stats window. */
export type StatField =
  | { t: 'call'; model: string; outcome: CallOutcome }
  | { t: 'refused'; model: string; reason: RefusalReason }
  | { t: 'latency'; model: string; bucket: string }
  | { t: 'fallback'; from: string; to: string };

const TAGS = { call: 'c', refused: 'r', latency: 'l', fallback: 'f' } as const;

/** The hash field of a counter. */
export function encodeStatField(f: StatField): string {
  switch (f.t) {
    case 'call':
      return JSON.stringify([TAGS.call, f.outcome, f.model]);
    case 'refused':
      return JSON.stringify([TAGS.refused, f.reason, f.model]);
    case 'latency':
      return JSON.stringify([TAGS.latency, f.bucket, f.model]);
    case 'fallback':
      return JSON.stringify([TAGS.fallback, f.from, f.to]);
  }
}

/** The counter a hash field names, or undefined for a field this version does not know. */
export function decodeStatField(field: string): StatField | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(field);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 3 || !parts.every((p) => typeof p === 'string'))
    return undefined;
  const [tag, a, b] = parts as [string, string, string];
  switch (tag) {
    case TAGS.call:
      return OUTCOMES.has(a) ? { t: 'call', outcome: a as CallOutcome, model: b } : undefined;
    case TAGS.refused:
      return REASONS.has(a) ? { t: 'refused', reason: a as RefusalReason, model: b } : undefined;
    case TAGS.latency:
      return { t: 'latency', bucket: a, model: b };
    case TAGS.fallback:
      return { t: 'fallback', from: a, to: b };
    default:
      return undefined;
  }
}

/** What a series field counts, per second. */
export type SeriesCounter = 'completed' | 'failed' | 'callErrors';

const SERIES_TAGS: Readonly<Record<SeriesCounter, string>> = { completed: 'c', failed: 'f', callErrors: 'e' };

/** The series field of a counter in the second `second` (Unix seconds). */
export function seriesField(counter: SeriesCounter, second: number): string {
  return `${SERIES_TAGS[counter]}:${second}`;
}

/** The counter and second a series field names, or undefined. */
export function decodeSeriesField(field: string): { counter: SeriesCounter; second: number } | undefined {
  const [tag, second] = field.split(':');
  const counter = (Object.keys(SERIES_TAGS) as SeriesCounter[]).find((c) => SERIES_TAGS[c] === tag);
  const n = Number(second);
  return counter && Number.isInteger(n) ? { counter, second: n } : undefined;
}
