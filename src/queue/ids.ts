import { z } from 'zod';
import { BULLMQ_RESERVED_IDS } from '../redis/keys.js';

/**
 * The one rule for job and batch ids, applied at every door (CLI, HTTP API, producer library,
 * worker) and documented in docs/ids.md.
 *
 * An id is written into Redis keys (`<prefix>:result:<id>`, `<prefix>:batch:<id>`) and is
 * BullMQ's job id (`<prefix>:jobs:<id>`). Redis keys are bytes, so two ids must never encode to
 * the same bytes: ioredis writes strings as UTF-8 and turns every lone surrogate into U+FFFD,
 * which would make `a\uD800` and `a\uDBFF` one key. Ids are therefore well-formed Unicode and
 * are never normalized or rewritten: what the caller sent is the key.
 */

/** Longest id, in Unicode code points (at most 800 bytes of UTF-8). */
export const MAX_ID_LENGTH = 200;

/**
 * Letters, marks, digits, punctuation and symbols, with single ASCII spaces allowed inside.
 * Control characters, format characters (zero-width, bidi overrides), other spaces, line
 * separators, private-use and unassigned code points are refused: they hide in logs, CSV
 * exports and terminals.
 */
const VISIBLE = String.raw`\p{L}\p{M}\p{N}\p{P}\p{S}`;
const SHAPE = new RegExp(`^[${VISIBLE}](?:[${VISIBLE} ]*[${VISIBLE}])?$`, 'u');
const ONE_VISIBLE = new RegExp(`^[${VISIBLE}]$`, 'u');

/**
 * Characters with a meaning in our keys: `:` separates key parts (an id holding it could reach
 * another id's keys, e.g. batch `x:jobs`), and braces choose the Redis Cluster slot.
 */
const RESERVED_CHARS = [':', '{', '}'] as const;

/** Describes the first thing wrong with `id` as a job or batch id, or undefined when it is fine. */
export function idProblem(id: string, what: 'job' | 'batch'): string | undefined {
  if (id.length === 0) return 'must not be empty';
  if (!id.isWellFormed()) {
    const at = [...id].findIndex((c) => /\p{Cs}/u.test(c));
    return `must be well-formed Unicode: it holds a lone surrogate at character ${at + 1}`;
  }
  // Code points are never more than UTF-16 units: only a long string needs counting.
  const length = id.length > MAX_ID_LENGTH ? [...id].length : id.length;
  if (length > MAX_ID_LENGTH) {
    return `must be at most ${MAX_ID_LENGTH} characters long (is ${length})`;
  }
  const reserved = RESERVED_CHARS.find((c) => id.includes(c));
  if (reserved) {
    return `must not contain "${reserved}" (it has a meaning in the Redis keys the ${what} id becomes part of)`;
  }
  if (!SHAPE.test(id)) {
    const chars = [...id];
    const bad = chars.findIndex((c, i) => {
      if (c === ' ') return i === 0 || i === chars.length - 1;
      return !ONE_VISIBLE.test(c);
    });
    const c = chars[bad] ?? '';
    const code = `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    return c === ' '
      ? 'must not start or end with a space'
      : `must hold only letters, digits, punctuation, symbols and inner spaces: character ${bad + 1} is ${code}`;
  }
  if (id === '.' || id === '..') return 'must not be "." or ".." (they name paths, not jobs)';
  if (what === 'job') {
    if (String(Number.parseInt(id, 10)) === id) {
      return 'must not be an integer (BullMQ numbers its own jobs); use e.g. "doc-42"';
    }
    if (BULLMQ_RESERVED_IDS.has(id)) return 'is a name BullMQ uses for its own keys; choose another id';
  }
  return undefined;
}

function idSchema(what: 'job' | 'batch') {
  return z.string().superRefine((id, ctx) => {
    const problem = idProblem(id, what);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** A job id: part of `<prefix>:result:<id>` and BullMQ's job id. */
export const JobIdSchema = idSchema('job');

/** A batch id: part of `<prefix>:batch:<id>` keys. */
export const BatchIdSchema = idSchema('batch');
