import { z } from 'zod';
import { type SimError, simError } from './control.js';
import type { AnyRequest } from './listener.js';
import { readBody } from './wire.js';

/** Control-plane input as Bedrock checks it: query strings, bodies, the signing region. */

/** The value at a zod path of `input`, for the message. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path)
    v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** A zod issue as the constraint AWS request validation names. */
function constraint(issue: z.core.$ZodIssue, present: boolean): string {
  switch (issue.code) {
    case 'invalid_value':
      return `Member must satisfy enum value set: [${issue.values.map(String).join(', ')}]`;
    case 'too_big':
    case 'too_small': {
      const what = issue.origin === 'number' ? 'value' : 'length';
      const bound =
        issue.code === 'too_big'
          ? `less than or equal to ${String(issue.maximum)}`
          : `greater than or equal to ${String(issue.minimum)}`;
      return `Member must have ${what} ${bound}`;
    }
    case 'invalid_format':
      return 'Member must satisfy regular expression pattern';
    default:
      return present ? issue.message : 'Member must not be null';
  }
}

/** `1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: …`, as AWS words it. */
export function invalid(error: z.ZodError, input: unknown): SimError {
  const parts = error.issues.map((issue) => {
    const value = valueAt(input, issue.path);
    const shown = value === undefined ? 'null' : typeof value === 'object' ? '' : String(value);
    return `Value${shown ? ` '${shown}'` : ''} at '${issue.path.join('.')}' failed to satisfy constraint: ${constraint(issue, value !== undefined)}`;
  });
  const count = parts.length === 1 ? '1 validation error' : `${parts.length} validation errors`;
  return simError('ValidationException', `${count} detected: ${parts.join('; ')}`);
}

/** ListFoundationModels' query string. */
export const ListModelsQuery = z.object({
  byProvider: z
    .string()
    .regex(/^[A-Za-z0-9- ]{1,63}$/)
    .optional(),
  byCustomizationType: z.enum(['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION']).optional(),
  byOutputModality: z.enum(['TEXT', 'IMAGE', 'EMBEDDING']).optional(),
  byInferenceType: z.enum(['ON_DEMAND', 'PROVISIONED']).optional(),
});

/** ListInferenceProfiles' query string (`type` is `typeEquals`). */
export const ListProfilesQuery = z.object({
  maxResults: z.coerce.number().int().min(1).max(1000).optional(),
  nextToken: z.string().min(1).max(2048).optional(),
  type: z.enum(['SYSTEM_DEFINED', 'APPLICATION']).optional(),
});

/** CreateInferenceProfile's body. */
export const CreateProfileBody = z.object({
  inferenceProfileName: z
    .string()
    .min(1)
    .max(64)
    .regex(/^([0-9a-zA-Z:.][ _-]?)+$/),
  description: z.string().min(1).max(200).optional(),
  clientRequestToken: z.string().optional(),
  modelSource: z.object({ copyFrom: z.string().min(1) }),
  tags: z.array(z.unknown()).optional(),
});

/** A request's JSON object body; undefined when it is too large, not JSON or not an object. */
export async function jsonBody(req: AnyRequest): Promise<Record<string, unknown> | undefined> {
  const raw = await readBody(req, 100_000);
  if (raw === 'too_large') return undefined;
  try {
    const value: unknown = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
