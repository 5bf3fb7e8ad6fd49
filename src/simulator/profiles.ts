import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FaultRuleSchema } from './faults.js';

export const ModelOverrideSchema = z
  .object({
    rpm: z.number().positive(),
    tpm: z.number().positive(),
    contextWindow: z.number().int().positive(),
    maxOutputTokens: z.number().int().positive(),
    firstTokenMs: z.number().nonnegative(),
    tokensPerSecond: z.number().positive(),
    enabled: z.boolean(),
  })
  .partial()
  .strict();
export type ModelOverride = z.infer<typeof ModelOverrideSchema>;

export const ProfileSchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    seed: z.number().int().optional(),
    timeScale: z.number().positive().optional().describe('divides latency and quota windows'),
    zeroLatency: z.boolean().default(false).describe('answer at once: for overhead benchmarks'),
    jitter: z.number().min(0).max(1).default(0.2).describe('± fraction of latency'),
    profileMultiplier: z
      .number()
      .positive()
      .default(2)
      .describe('cross-region profile quota / on-demand quota'),
    models: z.record(z.string(), ModelOverrideSchema).default({}),
    faults: z.array(FaultRuleSchema).default([]),
  })
  .strict();
export type Profile = z.infer<typeof ProfileSchema>;

/** The folder of profiles shipped with the package. */
export const PROFILES_DIR = join(import.meta.dirname, '..', '..', 'profiles');

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** Validates a profile object; the message names the source and every bad field. */
export function parseProfile(value: unknown, source: string): Profile {
  const parsed = ProfileSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ProfileError(`invalid simulator profile ${source}:\n${lines.join('\n')}`);
}

/**
 * Loads a profile by name (`steady` → `profiles/steady.yaml` of the package) or by path to a
 * YAML or JSON file.
 * @throws ProfileError naming the file and field
 */
export function loadProfile(nameOrFile: string): Profile {
  const file = /[/\\]|\.(ya?ml|json)$/.test(nameOrFile)
    ? nameOrFile
    : join(PROFILES_DIR, `${nameOrFile}.yaml`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ProfileError(`simulator profile ${nameOrFile} not found (looked for ${file})`);
  }
  let value: unknown;
  try {
    value = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ProfileError(
      `simulator profile ${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
    );
  }
  return parseProfile(value, file);
}
