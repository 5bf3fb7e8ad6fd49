import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { parseApiTokens } from './config-api.js';
import { ConfigError } from './config-error.js';

/** The environment a config is read from (`process.env` unless a caller passes its own). */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

function fromEnv(env: ConfigEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (env.REDIS_URL) out.redisUrl = env.REDIS_URL;
  const redis: Record<string, unknown> = {};
  if (env.REDIS_USERNAME) redis.username = env.REDIS_USERNAME;
  if (env.REDIS_PASSWORD) redis.password = env.REDIS_PASSWORD;
  if (env.REDIS_CLUSTER) redis.cluster = env.REDIS_CLUSTER === '1' || env.REDIS_CLUSTER === 'true';
  if (Object.keys(redis).length > 0) out.redis = redis;
  if (env.AWS_REGION) out.region = env.AWS_REGION;
  if (env.BEDROCK_ENDPOINT) out.endpoint = env.BEDROCK_ENDPOINT;
  if (env.API_TOKEN) out.apiToken = env.API_TOKEN;
  if (env.LOG_LEVEL) out.logLevel = env.LOG_LEVEL;
  if (env.LOG_PROMPTS) out.logPrompts = env.LOG_PROMPTS === '1' || env.LOG_PROMPTS === 'true';
  return out;
}

/** The message of a config that fails its schema: `source`, then one line per bad field. */
export function formatIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `  ${path}: ${issue.message}`;
  });
  return `invalid configuration in ${source}:\n${lines.join('\n')}`;
}

/**
 * The settings of a config file, JSON or YAML by its extension; an empty file has none.
 * @throws ConfigError when the file cannot be read or parsed, or is not a mapping of settings.
 */
export function readConfigFile(file: string): Record<string, unknown> {
  const fromFile = parseConfigFile(file);
  if (
    fromFile !== null &&
    fromFile !== undefined &&
    (typeof fromFile !== 'object' || Array.isArray(fromFile))
  ) {
    throw new ConfigError(`invalid configuration in ${file}: the top level must be a mapping of settings`);
  }
  return (fromFile ?? {}) as Record<string, unknown>;
}

function parseConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(
      `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  try {
    return extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(
      `config file ${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
    );
  }
}

/**
 * The config before its schema: the file's settings, the environment on top, then `overrides`
 * on top of both.
 * @throws ConfigError when API_TOKENS is not a list of tokens.
 */
export function layerConfig(
  fromFile: Readonly<Record<string, unknown>>,
  env: ConfigEnv,
  overrides: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...fromFile, ...fromEnv(env) };
  // API_TOKENS replaces the file's api.tokens and keeps the file's other api settings.
  if (env.API_TOKENS) {
    const api = merged.api;
    merged.api = {
      ...(api !== null && typeof api === 'object' ? api : {}),
      tokens: parseApiTokens(env.API_TOKENS),
    };
  }
  // CALLBACK_SECRET sets callbacks.secret and keeps the file's other callback settings.
  if (env.CALLBACK_SECRET) {
    const callbacks = merged.callbacks;
    merged.callbacks = {
      ...(callbacks !== null && typeof callbacks === 'object' ? callbacks : {}),
      secret: env.CALLBACK_SECRET,
    };
  }
  // REDIS_PASSWORD and the like add to the file's `redis` settings rather than replacing them.
  const redisLayers = [fromFile, fromEnv(env), overrides].map((l) => l?.redis).filter((r) => r !== undefined);
  Object.assign(merged, overrides ?? {});
  if (
    redisLayers.length > 1 &&
    redisLayers.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))
  )
    merged.redis = Object.assign({}, ...redisLayers);
  return merged;
}
