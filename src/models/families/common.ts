import type { z } from 'zod';
import type { ModelInfo } from '../info.js';
import type { Family, ModelRequest, StopReason, Usage } from '../request.js';
import type { NativeBody, StreamDelta } from './types.js';

/** Output budget in tokens when a job sets none: enough for a summary, cheap when unused. */
export const DEFAULT_MAX_TOKENS = 512;

/** Key Bedrock adds to the last chunk of every family's stream (`docs/bedrock-wire.md#stream-metrics`). */
const INVOCATION_METRICS_KEY = 'amazon-bedrock-invocationMetrics';

/**
 * The job's max output tokens, or {@link DEFAULT_MAX_TOKENS}, never above what the model can
 * produce: Bedrock refuses a body asking for more than the model's maximum.
 */
export function maxTokensFor(request: ModelRequest, model: ModelInfo): number {
  return Math.min(request.params?.maxTokens ?? DEFAULT_MAX_TOKENS, model.maxOutputTokens);
}

/** The system prompt, or undefined when there is none or it is empty (no family wants an empty one). */
export function systemText(request: ModelRequest): string | undefined {
  return request.system ? request.system : undefined;
}

/** Copies only the keys whose value is set: Bedrock's validators reject explicit nulls. */
export function defined(fields: Record<string, unknown>): NativeBody {
  const out: NativeBody = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Merges the job's native overrides for `family` last, so a job can set any native field
 * (`{ top_k: 5 }`). Top-level keys replace ours, except that an object we built ourselves
 * (Titan `textGenerationConfig`, Nova `inferenceConfig`) is merged one level deep, so
 * `{ inferenceConfig: { top_k: 50 } }` adds `top_k` without dropping `max_new_tokens`.
 * Overrides given for other families are ignored.
 */
export function withOverrides(body: NativeBody, request: ModelRequest, family: Family): NativeBody {
  const extra = request.native?.[family];
  if (!extra) return body;
  const out: NativeBody = { ...body };
  for (const [key, value] of Object.entries(extra)) {
    const ours = out[key];
    out[key] = isPlainObject(ours) && isPlainObject(value) ? { ...ours, ...value } : value;
  }
  return out;
}

/** Non-empty stop sequences, or undefined so the field is left out. */
export function stops(request: ModelRequest): string[] | undefined {
  const list = request.params?.stopSequences?.filter((s) => s.length > 0);
  return list && list.length > 0 ? list : undefined;
}

/**
 * Maps a native stop reason through a table; anything unlisted (tool use, errors, null) is
 * `other`. Only the table's own keys count, so `"toString"` is not a stop reason.
 */
export function mapStop(table: Readonly<Record<string, StopReason>>, value: unknown): StopReason {
  return typeof value === 'string' && Object.hasOwn(table, value) ? (table[value] ?? 'other') : 'other';
}

/** Reads `amazon-bedrock-invocationMetrics`, present on every family's last stream chunk. */
export function invocationMetrics(chunk: unknown): Partial<Usage> {
  if (!isPlainObject(chunk)) return {};
  const metrics = chunk[INVOCATION_METRICS_KEY];
  if (!isPlainObject(metrics)) return {};
  const usage: Partial<Usage> = {};
  if (typeof metrics.inputTokenCount === 'number') usage.inputTokens = metrics.inputTokenCount;
  if (typeof metrics.outputTokenCount === 'number') usage.outputTokens = metrics.outputTokenCount;
  return usage;
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const key of path)
    v = isPlainObject(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/**
 * Parses a native body with the family's zod schema.
 * @throws Error naming the family, what was expected and the first field that is missing or
 *   wrong, e.g. `unexpected titan response: missing results`.
 */
export function parseAs<T>(family: Family, what: string, schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path ?? [];
  const where = path.map(String).join('.');
  const problem =
    path.length === 0
      ? isPlainObject(body)
        ? (issue?.message ?? 'unexpected shape')
        : `expected a JSON object, got ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}`
      : valueAt(body, path) === undefined
        ? `missing ${where}`
        : `${where}: ${issue?.message ?? 'unexpected value'}`;
  throw new Error(`unexpected ${family} ${what}: ${problem}`);
}

/** Joins a delta's parts into one, keeping only what is set (empty text is no text). */
export function delta(
  text: string | undefined | null,
  stopReason: StopReason | undefined,
  usage: Partial<Usage>,
): StreamDelta {
  const out: StreamDelta = {};
  if (typeof text === 'string' && text.length > 0) out.text = text;
  if (stopReason) out.stopReason = stopReason;
  if (usage.inputTokens !== undefined || usage.outputTokens !== undefined) out.usage = usage;
  return out;
}
