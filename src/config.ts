import { accessSync, constants, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import proxyAddr from '@fastify/proxy-addr';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { redactUrlCredentials } from './log.js';
import { ModelCatalog } from './models/catalog.js';
import { ModelInfoSchema } from './models/info.js';
import { isApplicationProfileArn } from './models/model-id.js';
import { FAMILIES } from './models/request.js';
import { OfflineSettingsSchema } from './offline-settings.js';
import { parseRedisUrl, RedisSettingsSchema } from './redis/connect.js';
import { hashTagOf } from './redis/keys.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const MIB = 1024 * 1024;

const BreakerSchema = z
  .object({
    consecutiveFailures: z
      .number()
      .int()
      .positive()
      .default(5)
      .describe('failures in a row that open the breaker'),
    halfOpenAfterMs: z
      .number()
      .int()
      .positive()
      .default(30 * SECOND)
      .describe('open → half-open delay'),
  })
  .strict();

const RetrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).default(3).describe('calls to one model per job before moving on'),
    baseDelayMs: z
      .number()
      .int()
      .positive()
      .default(250)
      .describe('first backoff; doubles each attempt (full jitter)'),
    throttleBaseDelayMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe('first backoff after a throttle'),
    maxDelayMs: z
      .number()
      .int()
      .positive()
      .default(20 * SECOND)
      .describe('backoff cap'),
  })
  .strict();

/** Resilience settings for one model; every field has a default and a per-model override. */
const PolicySchema = z
  .object({
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(2 * MINUTE)
      .describe('abort one model call after this long'),
    maxConcurrent: z
      .number()
      .int()
      .positive()
      .default(32)
      .describe('bulkhead: concurrent calls per model per worker'),
    breaker: BreakerSchema.prefault({}),
    retry: RetrySchema.prefault({}),
  })
  .strict();
export type PolicyConfig = z.infer<typeof PolicySchema>;

const PolicyOverrideSchema = z
  .object({
    timeoutMs: z.number().int().positive(),
    maxConcurrent: z.number().int().positive(),
    breaker: BreakerSchema.partial(),
    retry: RetrySchema.partial(),
  })
  .partial()
  .strict();

/** Per-model settings: quotas for the fleet-wide limiter and policy overrides. */
const ModelSettingsSchema = z
  .object({
    rpm: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('fleet-wide requests per minute (default: catalog quota)'),
    tpm: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('fleet-wide tokens per minute (default: catalog quota)'),
    burstSeconds: z
      .number()
      .nonnegative()
      .optional()
      .describe(
        'calls the fleet may send at once ahead of the even pace, in seconds of quota (default: limiter.burstSeconds)',
      ),
    policy: PolicyOverrideSchema.optional(),
  })
  .strict();

const TemplateSchema = z
  .object({
    system: z.string().optional().describe('system prompt for summarize jobs'),
    instruction: z.string().optional().describe('user turn; {document} and {language} are replaced'),
  })
  .strict();

/**
 * What an API token may do, each including the one before: `read` every GET, `enqueue` also
 * `POST /v1/jobs` and `POST /v1/batches`, `admin` everything (README.md, "HTTP API").
 */
export const TOKEN_SCOPES = ['read', 'enqueue', 'admin'] as const;
/** One of {@link TOKEN_SCOPES}. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** The name API_TOKEN (`apiToken`) goes by in logs and sessions. */
export const API_TOKEN_NAME = 'default';

/** Whether `list` is a comma-separated list of addresses, CIDRs or named ranges a proxy may be in. */
function trustsAddresses(list: string): boolean {
  try {
    proxyAddr.compile(list.split(',').map((a) => a.trim()));
    return list.trim() !== '';
  } catch {
    return false;
  }
}

/** Shortest API token (`API_TOKEN` or a scoped one): anything shorter is within reach of guessing. */
export const MIN_TOKEN_LENGTH = 16;

const ApiTokenSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, "_", "." or "-"' })
      .refine((name) => name !== API_TOKEN_NAME, {
        error: `"${API_TOKEN_NAME}" names API_TOKEN; choose another`,
      })
      .describe('shown in logs instead of the token'),
    scope: z.enum(TOKEN_SCOPES),
    token: z
      .string()
      .min(MIN_TOKEN_LENGTH, { error: `must be at least ${MIN_TOKEN_LENGTH} characters long` })
      .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' }),
  })
  .strict();
/** One configured API token: `{ name, scope, token }`. */
export type ApiTokenConfig = z.infer<typeof ApiTokenSchema>;

const ApiTokensSchema = z.array(ApiTokenSchema).superRefine((tokens, ctx) => {
  const seen = new Map<string, number>();
  tokens.forEach((t, i) => {
    if (seen.has(t.name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${t.name}" is used twice` });
    seen.set(t.name, i);
    const first = tokens.findIndex((o) => o.token === t.token);
    if (first < i) {
      ctx.addIssue({ code: 'custom', path: [i, 'token'], message: `is the same as tokens[${first}]'s` });
    }
  });
});

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

/** Fleet-wide pacing and adaptive rates (`limiter` in the config). */
export const LimiterSettingsSchema = z
  .object({
    burstSeconds: z
      .number()
      .nonnegative()
      .default(1)
      .describe(
        'calls sent at once ahead of the even pace, in seconds of quota (a minute-quota fleet loses nothing to pacing); 0 spaces every call',
      ),
    spillWaitMs: z
      .number()
      .int()
      .nonnegative()
      .default(250)
      .describe(
        'a model whose next slot is further away than this is passed over for the next one in the chain',
      ),
    decreaseFactor: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.7)
      .describe('a throttle from Bedrock multiplies the fleet rate of that model by this'),
    decreaseWindowMs: z
      .number()
      .int()
      .positive()
      .default(SECOND)
      .describe('at most one decrease per model per window, for the whole fleet'),
    increasePerSecond: z
      .number()
      .positive()
      .default(0.2)
      .describe(
        'while calls wait for the rate, it grows back by this share of its last good level per second',
      ),
    discoverUpTo: z
      .number()
      .min(1)
      .default(4)
      .describe('how far above the catalog default an unconfigured rate may grow'),
    minShare: z
      .number()
      .gt(0)
      .max(1)
      .default(0.02)
      .describe('the rate never drops below this share of the quota'),
  })
  .strict();

/** The key prefix when the config names none. */
export const DEFAULT_PREFIX = '{bj}';

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
    worker: z
      .object({
        concurrency: z.number().int().positive().default(16).describe('jobs processed at once per worker'),
        shutdownTimeoutMs: z
          .number()
          .int()
          .positive()
          .default(30 * SECOND)
          .describe('grace for active jobs on SIGTERM'),
        jobAttempts: z
          .number()
          .int()
          .positive()
          .default(5)
          .describe('BullMQ attempts for infrastructure failures'),
        busyBackoffMs: z
          .number()
          .int()
          .positive()
          .default(SECOND)
          .describe('queue pause when every model is busy'),
        preflight: z
          .boolean()
          .default(true)
          .describe(
            'at start, ask the Bedrock control plane which chain models the account may use; chains skip the others without a call',
          ),
        preflightRefreshMs: z
          .number()
          .int()
          .positive()
          .default(10 * MINUTE)
          .describe('how often a running worker asks again, so a model enabled later is used again'),
        sharedBreakers: z
          .boolean()
          .default(true)
          .describe('share breaker state through Redis: a model one worker finds dead is left alone by all'),
        breakerRefreshMs: z
          .number()
          .int()
          .positive()
          .default(500)
          .describe('how long a worker trusts the fleet breaker state it read before reading it again'),
        lockDurationMs: z
          .number()
          .int()
          .min(SECOND)
          .default(10 * SECOND)
          .describe(
            'a job whose worker stops renewing its lock this long is stalled (renewed every half of it)',
          ),
        stalledIntervalMs: z
          .number()
          .int()
          .positive()
          .default(5 * SECOND)
          .describe(
            "how often workers look for stalled jobs: a crashed worker's jobs run again within lockDurationMs + this",
          ),
        maxStalledCount: z
          .number()
          .int()
          .nonnegative()
          .default(2)
          .describe(
            'stalls a job survives (worker crashes while it ran) before it fails with a result saying so',
          ),
        metricsPort: z
          .number()
          .int()
          .min(0)
          .max(65_535)
          .optional()
          .describe(
            "serve this worker's Prometheus metrics at GET /metrics on this port (0: any free one); off when unset",
          ),
        metricsHost: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe("address the worker's metrics port listens on; 0.0.0.0 for a scraper on another host"),
      })
      .strict()
      .prefault({}),
    stats: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe('workers add their model calls and finished jobs to fleet-wide 10 s windows in Redis'),
        flushMs: z
          .number()
          .int()
          .positive()
          .default(SECOND)
          .describe('how often a worker writes its counts to the fleet windows (one pipeline per flush)'),
        retentionSeconds: z
          .number()
          .int()
          .min(60)
          .default(HOUR / SECOND)
          .describe(
            'how long a fleet window stays in Redis after its last write; a longer span sees only what is kept',
          ),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        maxDocumentBytes: z
          .number()
          .int()
          .positive()
          .default(8 * MIB)
          .describe('largest summarize document, UTF-8 bytes; larger ones are refused at enqueue'),
      })
      .strict()
      .prefault({}),
    api: z
      .object({
        bodyLimitBytes: z
          .number()
          .int()
          .positive()
          .default(16 * MIB)
          .describe('largest JSON request body; stream bigger batches as NDJSON (no limit) or split them'),
        publicMetrics: z
          .boolean()
          .default(false)
          .describe('serve /metrics without the bearer token (for scrapers on a private network)'),
        tokens: ApiTokensSchema.default([]).describe(
          'scoped tokens, [{ name, scope: read | enqueue | admin, token }]; API_TOKENS replaces them',
        ),
        publicDocs: z
          .boolean()
          .default(false)
          .describe('serve /docs and /docs/json (the OpenAPI document) without a token'),
        sessionTtlSeconds: z
          .number()
          .int()
          .positive()
          .default((8 * HOUR) / SECOND)
          .describe('lifetime of a browser session cookie from POST /v1/session'),
        failedAuthLimit: z
          .number()
          .int()
          .nonnegative()
          .default(10)
          .describe(
            'failed authentications (wrong bearer token or login) a client may make per window before it gets 429; 0 turns the limit off',
          ),
        failedAuthWindowSeconds: z
          .number()
          .int()
          .positive()
          .default(60)
          .describe(
            "the window of api.failedAuthLimit, from a client's first failure; a locked-out client waits out its rest",
          ),
        trustProxy: z
          .union([
            z.boolean(),
            z.string().refine(trustsAddresses, {
              error:
                'must be true, false, or IP addresses and CIDRs (or loopback, linklocal, uniquelocal) separated by commas',
            }),
          ])
          .default(false)
          .describe(
            "proxies whose X-Forwarded-For/-Proto/-Host to believe: true (whoever connects), or the proxies' addresses and CIDRs, comma-separated; the client address counts failed logins",
          ),
        secureCookies: z
          .boolean()
          .default(false)
          .describe('mark session cookies Secure even over plain HTTP (behind a TLS-terminating proxy)'),
        ndjsonChunkJobs: z
          .number()
          .int()
          .positive()
          .default(1_000)
          .describe('NDJSON batches: jobs enqueued per round while the body streams in'),
        eventsProgressMs: z
          .number()
          .int()
          .positive()
          .default(250)
          .describe('GET /v1/batches/:id/events sends at most one progress event per this long'),
        eventsHeartbeatMs: z
          .number()
          .int()
          .positive()
          .default(15 * SECOND)
          .describe('GET /v1/batches/:id/events sends a comment this often, so proxies keep the stream open'),
      })
      .strict()
      .prefault({}),
    callbacks: z
      .object({
        secret: z
          .string()
          .min(16, { error: 'must be at least 16 characters' })
          .optional()
          .describe(
            'HMAC-SHA256 key that signs every callback; a batch with a callbackUrl is refused without it',
          ),
        timeoutMs: z
          .number()
          .int()
          .positive()
          .default(10 * SECOND)
          .describe('a callback POST that has not answered after this long counts as a failed attempt'),
        attempts: z
          .number()
          .int()
          .positive()
          .default(8)
          .describe('POSTs per callback before it is recorded as failed on the batch'),
        backoffMs: z
          .number()
          .int()
          .positive()
          .default(SECOND)
          .describe('wait before the second attempt; doubles after each failed one'),
        concurrency: z
          .number()
          .int()
          .positive()
          .default(8)
          .describe('callback POSTs in flight at once per worker process'),
        sweepMs: z
          .number()
          .int()
          .positive()
          .default(10 * SECOND)
          .describe(
            'how often each worker queues callbacks still waiting in the outbox (after a crash of the one that should have)',
          ),
        allowedHosts: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'when not empty, the only hosts a callbackUrl may name (exact, or `*.example.com` for subdomains)',
          ),
      })
      .strict()
      .prefault({}),
    offline: OfflineSettingsSchema.prefault({}).describe(
      'the offline lane: Bedrock batch inference through S3 (docs/offline-lane.md)',
    ),
    summarize: z
      .object({
        maxOutputTokens: z.number().int().positive().default(512).describe('summary length budget'),
        templates: z
          .partialRecord(z.enum(FAMILIES), TemplateSchema)
          .default({})
          .describe('per-family prompts'),
      })
      .strict()
      .prefault({}),
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

/** A config that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads `API_TOKENS`: a JSON list of `{ name, scope, token }`, or `name:scope:token` entries
 * separated by commas (a token holds no comma; it may hold colons). Entries are checked by
 * {@link ApiTokensSchema} afterwards, like the file's.
 * @throws ConfigError naming the entry that is not `name:scope:token`.
 */
export function parseApiTokens(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch (e) {
      throw new ConfigError(`API_TOKENS: is not valid JSON (${(e as Error).message})`);
    }
  }
  return trimmed
    .split(',')
    .filter((entry) => entry.trim() !== '')
    .map((entry, i) => {
      const [name, scope, ...rest] = entry.trim().split(':');
      if (!name || !scope || rest.length === 0) {
        throw new ConfigError(`API_TOKENS: entry ${i + 1} must be name:scope:token`);
      }
      return { name, scope, token: rest.join(':') };
    });
}

function fromEnv(env: Env): Record<string, unknown> {
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

function formatIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `  ${path}: ${issue.message}`;
  });
  return `invalid configuration in ${source}:\n${lines.join('\n')}`;
}

function readConfigFile(file: string): unknown {
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
 * Loads the config: file (JSON or YAML, `--config` or `BEDROCK_JOBS_CONFIG`), then env on top.
 * @throws ConfigError naming the file and each bad field.
 */
export function loadConfig(options: { file?: string; env?: Env; overrides?: ConfigInput } = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.BEDROCK_JOBS_CONFIG;
  const fromFile = file ? readConfigFile(file) : {};
  if (
    fromFile !== null &&
    fromFile !== undefined &&
    (typeof fromFile !== 'object' || Array.isArray(fromFile))
  ) {
    throw new ConfigError(`invalid configuration in ${file}: the top level must be a mapping of settings`);
  }
  const merged: Record<string, unknown> = { ...(fromFile ?? {}), ...fromEnv(env) };
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
  const redisLayers = [fromFile, fromEnv(env), options.overrides]
    .map((l) => (l as { redis?: unknown } | null | undefined)?.redis)
    .filter((r) => r !== undefined);
  Object.assign(merged, options.overrides ?? {});
  if (
    redisLayers.length > 1 &&
    redisLayers.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))
  )
    merged.redis = Object.assign({}, ...redisLayers);
  const parsed = ConfigSchema.safeParse(merged);
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

/** The effective policy for one model: defaults, then that model's overrides. */
export function policyFor(config: Config, modelId: string): PolicyConfig {
  const o = config.models[modelId]?.policy;
  if (!o) return config.policy;
  return {
    timeoutMs: o.timeoutMs ?? config.policy.timeoutMs,
    maxConcurrent: o.maxConcurrent ?? config.policy.maxConcurrent,
    breaker: { ...config.policy.breaker, ...o.breaker },
    retry: { ...config.policy.retry, ...o.retry },
  };
}
