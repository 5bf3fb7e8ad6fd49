import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BatchLimitsSchema, BatchTimingSchema } from './batch-profile.js';
import { FaultRuleSchema } from './fault-rule.js';

/** What a profile (or `POST /_sim/models/:id`) may change about one model. */
export const ModelOverrideSchema = z
  .object({
    rpm: z.number().positive().describe('on-demand requests per minute'),
    tpm: z.number().positive().describe('on-demand tokens per minute'),
    quotaWindowSeconds: z
      .number()
      .positive()
      .describe(
        'simulated seconds over which rpm/tpm are enforced (default 60): 1 refuses what exceeds the per-second share',
      ),
    quotaBurst: z.number().min(1).describe('the bucket holds this many windows of quota (default 1)'),
    contextWindow: z.number().int().positive(),
    maxOutputTokens: z.number().int().positive(),
    firstTokenMs: z.number().nonnegative().describe('typical time to first token'),
    tokensPerSecond: z.number().positive().describe('typical output speed'),
    enabled: z.boolean().describe('false: AccessDeniedException, as for a model not enabled'),
    available: z
      .boolean()
      .describe('false: ResourceNotFoundException, as for a model not offered in the region'),
    batch: BatchLimitsSchema.describe('model invocation job quotas of the model'),
  })
  .partial()
  .strict();
/** Changes to one model; absent fields keep the catalog value. */
export type ModelOverride = z.infer<typeof ModelOverrideSchema>;

/**
 * A simulator profile file (YAML or JSON). `models` is keyed by base id or alias; the key
 * `*` applies to every model and specific keys override it.
 */
export const ProfileSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    seed: z.number().int().optional().describe('seeds fault draws and jitter; --seed wins'),
    timeScale: z
      .number()
      .positive()
      .optional()
      .describe('simulated time runs this many times faster; divides latency and quota windows'),
    zeroLatency: z.boolean().default(false).describe('answer at once: for overhead benchmarks'),
    jitter: z.number().min(0).max(1).default(0.2).describe('± fraction of each latency'),
    profileMultiplier: z
      .number()
      .positive()
      .default(2)
      .describe('cross-region profile quota = on-demand quota × this'),
    models: z.record(z.string().min(1), ModelOverrideSchema).default({}),
    faults: z.array(FaultRuleSchema).default([]),
    batch: BatchTimingSchema.optional().describe(
      'how long model invocation jobs spend in each status, in simulated time (absent: the defaults)',
    ),
  })
  .strict();
/** A validated profile, defaults filled in. */
export type Profile = z.infer<typeof ProfileSchema>;
/** A profile as written in a file. */
export type ProfileInput = z.input<typeof ProfileSchema>;

/** The profiles shipped with the package (`<package>/profiles`, from `src/` and `dist/` alike). */
export const PROFILES_DIR = join(import.meta.dirname, '..', '..', 'profiles');

/** A profile that cannot be read or is invalid; the message names the file and field. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** A zod path as a reader writes it: `models["anthropic.claude-3-haiku…"].rpm`, `faults[2].toMs`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(root)';
}

/** Every issue of a zod error as `field: message`; `prefix` places the value in a larger one. */
export function formatIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((issue) => `${formatPath([...prefix, ...issue.path])}: ${issue.message}`);
}

/**
 * Validates a profile object.
 * @param source the file or name it came from, for the error message
 * @throws ProfileError naming the source and every bad field
 */
export function parseProfile(value: unknown, source: string): Profile {
  const parsed = ProfileSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const lines = formatIssues(parsed.error).map((line) => `  ${line}`);
  throw new ProfileError(`invalid simulator profile ${source}:\n${lines.join('\n')}`);
}

/** A bare name like `steady`; anything with a slash or an extension is a path. */
const isPath = (nameOrFile: string): boolean => /[/\\]|\.(ya?ml|json)$/i.test(nameOrFile);

/**
 * Loads a profile by name (`steady` → `profiles/steady.yaml` of the package) or from a YAML or
 * JSON file (paths relative to the working directory). Read once at start, hence sync.
 * @throws ProfileError naming the file and field
 */
export function loadProfile(nameOrFile: string): Profile {
  const file = isPath(nameOrFile) ? nameOrFile : join(PROFILES_DIR, `${nameOrFile}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not readable';
    throw new ProfileError(`simulator profile ${nameOrFile} ${why} (looked for ${file})`, { cause: e });
  }
  const json = extname(file).toLowerCase() === '.json';
  let value: unknown;
  try {
    value = json ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ProfileError(
      `simulator profile ${file} is not valid ${json ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return parseProfile(value, file);
}
