import { accessSync, constants } from 'node:fs';
import { z } from 'zod';
import { ApiSettingsSchema, MIN_TOKEN_LENGTH } from './config-api.js';
import { CallbackSettingsSchema } from './config-callbacks.js';
import { ConfigError } from './config-error.js';
import { LimiterSettingsSchema } from './config-limiter.js';
import { type ConfigEnv, formatIssues, layerConfig, readConfigFile } from './config-load.js';
import { ModelSettingsSchema, PolicySchema } from './config-policy.js';
import { LimitsSettingsSchema, SummarizeSettingsSchema } from './config-summarize.js';
import { StatsSettingsSchema, WorkerSettingsSchema } from './config-worker.js';
import { redactUrlCredentials } from './log.js';
import { ModelCatalog } from './models/catalog.js';
import { ModelInfoSchema } from './models/info.js';
import { isApplicationProfileArn } from './models/model-id.js';
import { OfflineSettingsSchema } from './offline-settings.js';
import { parseRedisUrl, RedisSettingsSchema } from './redis/connect.js';
import { hashTagOf } from './redis/keys.js';
import { DAY, SECOND } from './units.js';

/**
 * The default chain: three cheap, fast ACTIVE models of three providers, so an outage of one
 * provider leaves two: Claude Haiku 4.5, Llama 3.3 70B (through its US profile: us-east-1 has
 * no in-region Llama 3.3) and Nova Lite. `src/models/builtin.test.ts` fails if one turns LEGACY.
 */
export const DEFAULT_CHAIN = [
  'anthropic.claude-haiku-4-5-20251001-v1:0',
  'us.meta.llama3-3-70b-instruct-v1:0',
  'amazon.nova-lite-v1:0',
] as const;

/** The key prefix when the config names none. */
export const DEFAULT_PREFIX = '{bj}';

/**
 * The whole configuration: the top-level settings here, each larger section from a module of
 * its own (`config-worker.ts`, `config-api.ts`, ...), and the checks that span sections.
 */
export const ConfigSchema = z
  .object({
    redisUrl: z
      .string()
      .default('redis://127.0.0.1:6379')
      .superRefine((url, ctx) => {
        try {
          parseRedisUrl(url);
        } catch (e) {
          // The message never repeats the URL: it may hold a password.
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      })
      .describe(
        'Redis for the queue, results and fleet-wide rate limits; rediss:// for TLS, user:password@ for an ACL user',
      ),
    redis: RedisSettingsSchema.prefault({}).describe('how to reach Redis beyond its URL'),
    prefix: z
      .string()
      .min(1)
      .default(DEFAULT_PREFIX)
      .describe('key prefix; braces keep keys in one cluster slot'),
    region: z.string().min(1).default('us-east-1').describe('AWS region of Bedrock Runtime'),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe('Bedrock endpoint override, e.g. the simulator at http://127.0.0.1:4010'),
    apiToken: z
      .string()
      // Names the variable as well as the field (it mostly comes from the environment), never the value.
      .min(MIN_TOKEN_LENGTH, { error: `must be at least ${MIN_TOKEN_LENGTH} characters long (API_TOKEN)` })
      .optional()
      .describe(
        'a bearer token of the HTTP API with the admin scope, at least 16 characters (scoped ones: api.tokens)',
      ),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('log level (JSON lines; CLI commands log to stderr)'),
    logPrompts: z
      .boolean()
      .default(false)
      .describe('LOG_PROMPTS=1: log prompt and output text, only at trace level'),
    resultTtlSeconds: z
      .number()
      .int()
      .positive()
      .default((7 * DAY) / SECOND)
      .describe('how long results stay in Redis'),
    chains: z
      .record(z.string().min(1), z.array(z.string().min(1)).min(1))
      .default({ default: [...DEFAULT_CHAIN] })
      .describe('named fallback chains: ordered model ids, aliases, profiles or ARNs'),
    spill: z
      .record(z.string().min(1), z.boolean())
      .default({})
      .describe(
        'per chain: false makes a job wait for a busy model instead of moving on to the next (default true)',
      ),
    models: z
      .record(z.string().min(1), ModelSettingsSchema)
      .default({})
      .describe('per-model quotas and policy overrides'),
    limiter: LimiterSettingsSchema.prefault({}).describe('fleet-wide pacing and adaptive rates'),
    customModels: z.array(ModelInfoSchema).default([]).describe('models added to the catalog'),
    inferenceProfiles: z
      .record(z.string(), z.string().min(1))
      .default({})
      .describe(
        'application inference profile ARN → the model (id, alias or system profile) it was made from; chains may then name the ARN',
      ),
    policy: PolicySchema.prefault({}),
    worker: WorkerSettingsSchema.prefault({}),
    stats: StatsSettingsSchema.prefault({}),
    limits: LimitsSettingsSchema.prefault({}),
    api: ApiSettingsSchema.prefault({}),
    callbacks: CallbackSettingsSchema.prefault({}),
    offline: OfflineSettingsSchema.prefault({}).describe(
      'the offline lane: Bedrock batch inference through S3 (docs/offline-lane.md)',
    ),
    summarize: SummarizeSettingsSchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const { caFile } = config.redis;
    if (caFile !== undefined) {
      try {
        accessSync(caFile, constants.R_OK);
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['redis', 'caFile'],
          message: `cannot read ${caFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
        });
      }
    }
    // BullMQ's scripts and ours touch several keys at once; a Cluster serves that only in one slot.
    if (config.redis.cluster && hashTagOf(config.prefix) === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['prefix'],
        message: `"${config.prefix}" has no {hash tag}; with redis.cluster every key must share one, e.g. "{bj}"`,
      });
    // A profile's model must be one the catalog (built-in plus customModels) can resolve.
    const catalog = new ModelCatalog(config.customModels);
    for (const [arn, target] of Object.entries(config.inferenceProfiles)) {
      if (!isApplicationProfileArn(arn))
        ctx.addIssue({
          code: 'custom',
          path: ['inferenceProfiles', arn],
          message:
            'must be an application inference profile ARN (arn:aws:bedrock:<region>:<account>:application-inference-profile/<id>)',
        });
      else if (!catalog.resolve(target))
        ctx.addIssue({
          code: 'custom',
          path: ['inferenceProfiles', arn],
          message: `model "${target}" is not in the catalog and its family cannot be inferred`,
        });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/**
 * Loads the config: file (JSON or YAML, `--config` or `BEDROCK_JOBS_CONFIG`), then env on top.
 * @throws ConfigError naming the file and each bad field.
 */
export function loadConfig(
  options: { file?: string; env?: ConfigEnv; overrides?: ConfigInput } = {},
): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.BEDROCK_JOBS_CONFIG;
  const fromFile = file ? readConfigFile(file) : {};
  const parsed = ConfigSchema.safeParse(layerConfig(fromFile, env, options.overrides));
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, file ?? 'environment'));
  return parsed.data;
}

/**
 * The config as it may be shown: the API tokens, the Redis password and the callback secret
 * replaced by `[redacted]`, and the password in `redisUrl` masked (`redis://user:***@host`).
 */
export function redactedConfig(config: Config): Config {
  return {
    ...config,
    redisUrl: redactUrlCredentials(config.redisUrl),
    redis: { ...config.redis, ...(config.redis.password ? { password: '[redacted]' } : {}) },
    ...(config.apiToken ? { apiToken: '[redacted]' } : {}),
    api: { ...config.api, tokens: config.api.tokens.map((t) => ({ ...t, token: '[redacted]' })) },
    callbacks: { ...config.callbacks, ...(config.callbacks.secret ? { secret: '[redacted]' } : {}) },
  };
}
