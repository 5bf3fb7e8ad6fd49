import type { z } from 'zod';

/** One problem with a job: where (`jobs[3].params.temperature`) and what (`must be at most 1`). */
export interface JobIssue {
  path: string;
  message: string;
  /** `too_large`: the input is over a size limit (HTTP 413 rather than 400). */
  code?: 'too_large';
}

/**
 * A job refused at enqueue (or found invalid in the worker). The message names every field that
 * is wrong, e.g. `jobs[3].params.temperature: must be at most 1`; `issues` has them one by one.
 */
export class JobValidationError extends Error {
  override readonly name = 'JobValidationError';
  readonly issues: readonly JobIssue[];

  constructor(issues: readonly JobIssue[]) {
    // A job with thousands of bad keys is refused in a message one can read: the first few.
    const shown = issues.slice(0, MAX_SHOWN_ISSUES).map((i) => `${i.path}: ${i.message}`);
    const more = issues.length - shown.length;
    super(`${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`);
    this.issues = issues;
  }

  /** Whether a size limit was the problem (the API answers 413). */
  get tooLarge(): boolean {
    return this.issues.some((i) => i.code === 'too_large');
  }

  /** The path of the first problem, e.g. `jobs[7].messages`. */
  get path(): string {
    return this.issues[0]?.path ?? '';
  }
}

/** Issues a {@link JobValidationError}'s message lists; `issues` holds them all. */
const MAX_SHOWN_ISSUES = 10;
/** Characters of a caller's value a message quotes, before it is cut with `…`. */
const MAX_QUOTED = 60;

/**
 * `text` in double quotes, escaped as JSON, and cut after {@link MAX_QUOTED} characters: a
 * message names what it refuses without echoing a hostile value whole.
 */
export function quote(text: string): string {
  const chars = [...text];
  return JSON.stringify(chars.length > MAX_QUOTED ? `${chars.slice(0, MAX_QUOTED).join('')}…` : text);
}

export function isJobValidationError(e: unknown): e is JobValidationError {
  return e instanceof JobValidationError;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `root` plus zod path segments: `jobs[3]` + `['params', 'temperature']` → `jobs[3].params.temperature`. */
export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENTIFIER.test(seg) && seg.length <= MAX_QUOTED) out += `.${seg}`;
    else out += `[${quote(String(seg))}]`;
  }
  return out;
}

const ARTICLE: Readonly<Record<string, string>> = {
  array: 'a list',
  object: 'an object',
  record: 'an object',
  integer: 'an integer',
  int: 'an integer',
};

function describeExpected(expected: string): string {
  return ARTICLE[expected] ?? `a ${expected}`;
}

function received(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  return typeof input === 'object' ? 'an object' : typeof input;
}

function bound(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, limit: string): string {
  const n = String('maximum' in issue ? issue.maximum : issue.minimum);
  switch (issue.origin) {
    case 'string':
      if (limit === 'at least' && n === '1') return 'must not be empty';
      return `must be ${limit} ${n} ${n === '1' ? 'character' : 'characters'} long`;
    case 'array':
    case 'set':
      return `must have ${limit} ${n} ${n === '1' ? 'item' : 'items'}`;
    default:
      return `must be ${limit} ${n}`;
  }
}

/** A zod issue in words a caller can act on; messages we wrote in the schema pass through. */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'int' && typeof issue.input === 'number') return 'must be an integer';
      return `must be ${describeExpected(issue.expected)}, not ${received(issue.input)}`;
    case 'too_big':
      return bound(issue, issue.inclusive === false ? 'less than' : 'at most');
    case 'too_small':
      return bound(issue, issue.inclusive === false ? 'more than' : 'at least');
    case 'invalid_value':
      if (issue.input === undefined) return 'is required';
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'must be a JSON value (string, number, boolean, null, list or object)';
    case 'invalid_key':
      return issue.message;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

/**
 * Every zod issue as a {@link JobIssue} under `root`; unknown keys name the key itself.
 * Parse with `reportInput: true` so type errors can say what was received.
 */
export function toJobIssues(root: string, error: z.ZodError): JobIssue[] {
  const out: JobIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: formatPath(root, [...issue.path, key]), message: 'unknown field' });
      continue;
    }
    out.push({ path: formatPath(root, issue.path), message: describeIssue(issue) });
  }
  return out;
}

/** Objects nested deeper than this are left to the schema, which refuses what it cannot walk. */
const MAX_WALK_DEPTH = 256;

/**
 * Where `value` holds a key that changes an object's prototype when a parser or a merge copies
 * it (`__proto__` anywhere, or `constructor` holding a `prototype`), as a path of keys; undefined
 * when it holds none. Zod copies record keys by assignment, so such a key in `metadata` or
 * `native` would silently vanish from the job (or reshape the copy's prototype) instead of
 * being refused: the HTTP API refuses these keys when it parses a body (`src/api/body.ts`), and
 * this gives the library and the CLI the same rule. Walks own enumerable keys without recursion,
 * once per object (cycles are the schema's to refuse).
 */
export function prototypeKeyPath(value: unknown): PropertyKey[] | undefined {
  const seen = new Set<object>();
  // Each object knows the key it was reached by and its parent: a path is built only for a hit.
  const stack: WalkFrame[] = typeof value === 'object' && value !== null ? [{ at: value, depth: 0 }] : [];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { at, depth } = next;
    if (seen.has(at) || depth > MAX_WALK_DEPTH) continue;
    seen.add(at);
    const isArray = Array.isArray(at);
    for (const key of Object.keys(at)) {
      const child = (at as Record<string, unknown>)[key];
      const isObject = typeof child === 'object' && child !== null;
      if (key === '__proto__' || (key === 'constructor' && isObject && Object.hasOwn(child, 'prototype'))) {
        return pathTo(next, key);
      }
      if (isObject)
        stack.push({ at: child, depth: depth + 1, parent: next, key: isArray ? Number(key) : key });
    }
  }
  return undefined;
}

/** An object met by {@link prototypeKeyPath}, and how it was reached from the root. */
interface WalkFrame {
  at: object;
  depth: number;
  parent?: WalkFrame;
  key?: PropertyKey;
}

/** The keys from the root to `frame`, then `last`. */
function pathTo(frame: WalkFrame, last: PropertyKey): PropertyKey[] {
  const path: PropertyKey[] = [last];
  for (let f: WalkFrame | undefined = frame; f?.parent; f = f.parent) {
    if (f.key !== undefined) path.unshift(f.key);
  }
  return path;
}
