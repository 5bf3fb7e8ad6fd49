import proxyAddr from '@fastify/proxy-addr';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { HOUR, MIB, SECOND } from './units.js';

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
 * The `api:` section: request limits, scoped tokens, sessions, failed logins and proxies of the
 * HTTP API.
 */
export const ApiSettingsSchema = z
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
  .strict();

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
