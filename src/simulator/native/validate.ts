import type { z } from 'zod';
import { type SimError, simError } from '../control.js';

const malformed = (detail: string): SimError =>
  simError(
    'ValidationException',
    `Malformed input request: ${detail}, please reformat your input and try again.`,
  );

/** JSON-schema style pointer, as Bedrock's validator prints it: `#/inferenceConfig/temperature`. */
const pointer = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? '#' : `#/${path.map(String).join('/')}`;

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const key of path)
    v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

const typeName = (v: unknown): string =>
  v === null
    ? 'Null'
    : Array.isArray(v)
      ? 'JSONArray'
      : typeof v === 'number'
        ? Number.isInteger(v)
          ? 'Integer'
          : 'BigDecimal'
        : typeof v === 'string'
          ? 'String'
          : typeof v === 'boolean'
            ? 'Boolean'
            : 'JSONObject';

/**
 * Checks a native body against a strict zod schema and words the first problem the way
 * Bedrock's JSON-schema validator does (reference §2.3).
 */
export function validateNative<T>(schema: z.ZodType<T>, body: unknown): T | SimError {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return malformed(`#: expected type: JSONObject, found: ${typeName(body)}`);
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const at = pointer(issue.path);
  const value = valueAt(body, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return malformed(`${at}: extraneous key [${issue.keys[0]}] is not permitted`);
    case 'too_big':
      return issue.origin === 'number'
        ? malformed(`${at}: ${String(value)} is not less or equal to ${String(issue.maximum)}`)
        : malformed(
            `${at}: expected maxLength: ${String(issue.maximum)}, actual: ${Array.isArray(value) || typeof value === 'string' ? value.length : '?'}`,
          );
    case 'too_small':
      return issue.origin === 'number'
        ? malformed(`${at}: ${String(value)} is not greater or equal to ${String(issue.minimum)}`)
        : malformed(
            `expected minLength: ${String(issue.minimum)}, actual: ${Array.isArray(value) || typeof value === 'string' ? value.length : 0}`,
          );
    case 'invalid_type': {
      if (value === undefined) {
        const parent = pointer(issue.path.slice(0, -1));
        return malformed(`${parent}: required key [${String(issue.path[issue.path.length - 1])}] not found`);
      }
      return malformed(
        `${at}: expected type: ${issue.expected === 'array' ? 'JSONArray' : issue.expected === 'object' ? 'JSONObject' : issue.expected.charAt(0).toUpperCase() + issue.expected.slice(1)}, found: ${typeName(value)}`,
      );
    }
    case 'invalid_value':
      return malformed(`${at}: ${JSON.stringify(value)} is not a valid enum value`);
    default:
      return malformed(`${at}: ${issue.message}`);
  }
}

export function isSimError(v: unknown): v is SimError {
  return (
    typeof v === 'object' &&
    v !== null &&
    'name' in v &&
    'message' in v &&
    typeof (v as SimError).name === 'string' &&
    (v as SimError).name.endsWith('Exception')
  );
}
