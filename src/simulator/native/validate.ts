import type { z } from 'zod';
import { type SimError, simError } from '../control.js';

/** A ValidationException worded like Bedrock's JSON-schema validator (`docs/bedrock-wire.md#validation-messages`). */
export const malformed = (detail: string): SimError =>
  simError(
    'ValidationException',
    `Malformed input request: ${detail}, please reformat your input and try again.`,
  );

/** JSON-pointer style location, as Bedrock's validator prints it: `#/inferenceConfig/temperature`. */
const pointer = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? '#' : `#/${path.map(String).join('/')}`;

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const key of path)
    v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** The validator's (Java) name for the type of a JSON value. */
export function jsonTypeName(v: unknown): string {
  if (v === null) return 'Null';
  if (Array.isArray(v)) return 'JSONArray';
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? 'Integer' : 'BigDecimal';
    case 'string':
      return 'String';
    case 'boolean':
      return 'Boolean';
    default:
      return 'JSONObject';
  }
}

const EXPECTED: Readonly<Record<string, string>> = {
  array: 'JSONArray',
  object: 'JSONObject',
  int: 'Integer',
  number: 'Number',
  string: 'String',
  boolean: 'Boolean',
};

const lengthOf = (v: unknown): number => (Array.isArray(v) || typeof v === 'string' ? v.length : 0);

const required = (path: readonly PropertyKey[]): string =>
  `${pointer(path.slice(0, -1))}: required key [${String(path[path.length - 1] ?? '')}] not found`;

function describe(issue: z.core.$ZodIssue, body: unknown): string {
  const at = pointer(issue.path);
  const value = valueAt(body, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${at}: extraneous key [${issue.keys[0] ?? ''}] is not permitted`;
    case 'invalid_type':
      if (value === undefined) return required(issue.path);
      return `${at}: expected type: ${EXPECTED[issue.expected] ?? issue.expected}, found: ${jsonTypeName(value)}`;
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int'
        ? `${at}: ${String(value)} is not less or equal to ${String(issue.maximum)}`
        : issue.origin === 'array'
          ? `${at}: expected maximum item count: ${String(issue.maximum)}, found: ${lengthOf(value)}`
          : `${at}: expected maxLength: ${String(issue.maximum)}, actual: ${lengthOf(value)}`;
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int'
        ? `${at}: ${String(value)} is not greater or equal to ${String(issue.minimum)}`
        : issue.origin === 'array'
          ? `${at}: expected minimum item count: ${String(issue.minimum)}, found: ${lengthOf(value)}`
          : `expected minLength: ${String(issue.minimum)}, actual: ${lengthOf(value)}`;
    case 'invalid_value':
      if (value === undefined) return required(issue.path);
      return `${at}: ${typeof value === 'string' ? value : JSON.stringify(value)} is not a valid enum value`;
    case 'invalid_union':
      return `${at}: #: no subschema matched out of the total ${issue.errors.length} subschemas`;
    default:
      return `${at}: ${issue.message}`;
  }
}

/** Missing keys first, then extraneous keys, then the rest: the problem a caller most needs to see. */
function rank(issue: z.core.$ZodIssue, body: unknown): number {
  if (issue.code === 'unrecognized_keys') return 1;
  const missing =
    (issue.code === 'invalid_type' || issue.code === 'invalid_value') &&
    valueAt(body, issue.path) === undefined;
  return missing ? 0 : 2;
}

/**
 * Checks a native body against a strict zod schema and words the most telling problem the
 * way Bedrock's JSON-schema validator does, e.g. a Claude body sent to Titan:
 * `Malformed input request: #: required key [inputText] not found, please reformat your input and try again.`
 * @returns the parsed body, or the ValidationException to answer
 */
export function validateNative<T>(schema: z.ZodType<T>, body: unknown): T | SimError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return malformed(`#: expected type: JSONObject, found: ${jsonTypeName(body)}`);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  let best = parsed.error.issues[0]!;
  for (const issue of parsed.error.issues) if (rank(issue, body) < rank(best, body)) best = issue;
  return malformed(describe(best, body));
}

/** True for a {@link SimError} (the parse functions return either a result or one of these). */
export function isSimError(v: unknown): v is SimError {
  return (
    typeof v === 'object' &&
    v !== null &&
    'name' in v &&
    'message' in v &&
    typeof v.name === 'string' &&
    v.name.endsWith('Exception')
  );
}

/**
 * The validator's answer to an output-token request above the called model's maximum, e.g.
 * `#/max_gen_len: 4096 is not less or equal to 2048`.
 */
export const overMaximum = (path: string, value: number, maximum: number): SimError =>
  malformed(`#/${path}: ${value} is not less or equal to ${maximum}`);
