import type { ModelInfo } from '../catalog.js';
import type { Family, ModelRequest, StopReason } from '../request.js';
import type { NativeBody, StreamDelta } from './types.js';

/** Output budget when a job sets none: enough for a summary, cheap when it is not used. */
export const DEFAULT_MAX_TOKENS = 512;

/** The job's max tokens, or the default, never above what the model can produce. */
export function maxTokensFor(request: ModelRequest, model: ModelInfo): number {
  return Math.min(request.params?.maxTokens ?? DEFAULT_MAX_TOKENS, model.maxOutputTokens);
}

/** Copies only the keys whose value is set: Bedrock's validators reject explicit nulls. */
export function defined(fields: Record<string, unknown>): NativeBody {
  const out: NativeBody = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

/** Merges the job's native overrides for `family` last, so a job can use any native field. */
export function withOverrides(body: NativeBody, request: ModelRequest, family: Family): NativeBody {
  const extra = request.native?.[family];
  return extra ? { ...body, ...extra } : body;
}

/** Non-empty stop sequences, or undefined so the field is left out. */
export function stops(request: ModelRequest): string[] | undefined {
  const list = request.params?.stopSequences?.filter((s) => s.length > 0);
  return list && list.length > 0 ? list : undefined;
}

/** Maps a native stop reason through a table; anything unlisted is `other`. */
export function mapStop(table: Readonly<Record<string, StopReason>>, value: unknown): StopReason {
  return typeof value === 'string' ? (table[value] ?? 'other') : 'other';
}

/** Reads `amazon-bedrock-invocationMetrics`, present on every family's last stream chunk. */
export function invocationMetrics(chunk: unknown): StreamDelta['usage'] | undefined {
  if (typeof chunk !== 'object' || chunk === null) return undefined;
  const metrics = (chunk as Record<string, unknown>)['amazon-bedrock-invocationMetrics'];
  if (typeof metrics !== 'object' || metrics === null) return undefined;
  const m = metrics as Record<string, unknown>;
  const usage: NonNullable<StreamDelta['usage']> = {};
  if (typeof m.inputTokenCount === 'number') usage.inputTokens = m.inputTokenCount;
  if (typeof m.outputTokenCount === 'number') usage.outputTokens = m.outputTokenCount;
  return usage;
}

/** Parses with a zod-like schema and names the family when the body is not its shape. */
export function parseAs<T>(
  family: Family,
  what: string,
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  body: unknown,
): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
  throw new Error(`not a ${family} ${what}: ${where}: ${issue?.message ?? 'unexpected shape'}`);
}

/** Joins a delta's parts into one, keeping only what is set. */
export function delta(
  text: string | undefined | null,
  stopReason: StopReason | undefined,
  usage: StreamDelta['usage'],
): StreamDelta {
  const out: StreamDelta = {};
  if (typeof text === 'string' && text.length > 0) out.text = text;
  if (stopReason) out.stopReason = stopReason;
  if (usage && (usage.inputTokens !== undefined || usage.outputTokens !== undefined)) out.usage = usage;
  return out;
}
