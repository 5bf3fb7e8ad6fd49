import { readFileSync } from 'node:fs';
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';
import { JobSchema } from '../queue/jobs.js';
import { ResultRecordSchema } from '../results/record.js';
import { type RouteScope, scopeRoutesUnder } from './auth.js';
import { ErrorSchema } from './schemas.js';

/** Where the browsable page is; the document is at `${DOCS_PREFIX}/json` (and `/yaml`). */
export const DOCS_PREFIX = '/docs';

const SCOPE_WORDS: Readonly<Record<RouteScope, string>> = {
  public: 'Open: needs no token.',
  read: 'Needs a token with the `read` scope (or wider).',
  enqueue: 'Needs a token with the `enqueue` scope (or `admin`).',
  admin: 'Needs a token with the `admin` scope.',
};

function packageVersion(): string {
  // src/api/ and dist/api/ both sit two levels below the package root.
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

type Json = Record<string, unknown>;
type SchemaObject = Exclude<
  NonNullable<
    NonNullable<NonNullable<FastifyDynamicSwaggerOptions['openapi']>['components']>['schemas']
  >[string],
  { $ref: string }
>;
type ComponentSchemas = Record<string, SchemaObject>;

/**
 * A zod schema as JSON Schema for the document. Recursive schemas (`z.json()`, the free-form
 * `metadata` and `native` values) become "any JSON value", and the definitions zod hoists
 * are put back in place, since a route's schema cannot carry definitions of its own.
 */
function zodToJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(schema, {
    io,
    target: 'openapi-3.0',
    unrepresentable: 'any',
    override(ctx) {
      if (ctx.zodSchema._zod.def.type !== 'lazy') return;
      for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Json)[key];
      ctx.jsonSchema.description = 'any JSON value';
    },
  }) as Json;
  const { $schema: _, definitions, ...rest } = json;
  const defs = (definitions ?? {}) as Record<string, Json>;
  const inline = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(inline);
    if (value === null || typeof value !== 'object') return value;
    const ref = (value as Json).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/definitions/')) {
      const def = defs[ref.slice('#/definitions/'.length)];
      if (!def) throw new Error(`OpenAPI: unresolved ${ref}`);
      return inline(def);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inline(v)]));
  };
  return inline(rest) as Json;
}

/**
 * Schemas the document names (`#/components/schemas/<name>`) instead of repeating them inline,
 * so generated clients get one type each; `io`: as sent to the API or as answered.
 */
const NAMED: ReadonlyMap<z.ZodType, { name: string; io: 'input' | 'output' }> = new Map<
  z.ZodType,
  { name: string; io: 'input' | 'output' }
>([
  [JobSchema, { name: 'Job', io: 'input' }],
  [ResultRecordSchema, { name: 'ResultRecord', io: 'output' }],
  [ErrorSchema, { name: 'Error', io: 'output' }],
]);

function components(): ComponentSchemas {
  return Object.fromEntries(
    [...NAMED].map(([schema, { name, io }]) => [name, zodToJsonSchema(schema, io)]),
  ) as ComponentSchemas;
}

/** Zod schemas anywhere inside `value` turned into JSON Schema; everything else kept. */
function toJsonSchemas(value: unknown, io: 'input' | 'output'): unknown {
  const named = value instanceof z.ZodType ? NAMED.get(value) : undefined;
  if (named) return { $ref: `#/components/schemas/${named.name}` };
  if (value instanceof z.ZodType) return zodToJsonSchema(value, io);
  if (Array.isArray(value)) return value.map((v) => toJsonSchemas(v, io));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchemas(v, io)]));
  }
  return value;
}

/**
 * The OpenAPI 3 document at `/docs/json` and a browsable page at `/docs` (swagger-ui, served
 * from this package: no CDN). Route schemas are the zod schemas the handlers parse with (or,
 * for answers, typed against what they return, `schemas.ts`); they are turned into JSON Schema
 * here, for the document only. Each operation also says which scope it needs (`x-scope`).
 * Register before the routes, which it collects as they are added.
 */
export async function registerDocs(app: FastifyInstance, options: { publicDocs: boolean }): Promise<void> {
  // The docs' own routes are registered by the plugins below, which declare no scope.
  scopeRoutesUnder(app, DOCS_PREFIX, () => (options.publicDocs ? 'public' : 'read'));
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'bedrock-jobs',
        version: packageVersion(),
        description:
          'Enqueue Bedrock generation and summarization jobs and batches, follow them and read their results. Scopes: `read` every GET, `enqueue` also POST /v1/jobs, /v1/batches and /v1/batches/{id}/retry-failed, `admin` everything. A client that sends too many wrong tokens is answered 429 with Retry-After for a while.',
      },
      components: {
        schemas: components(),
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <token>' },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: 'bj_session',
            description: 'the cookie POST /v1/session sets, for browser pages',
          },
        },
      },
    },
    transform({ schema, url, route }) {
      const scope: RouteScope = route.config?.scope ?? 'admin';
      const given = (schema ?? {}) as FastifySchema & { description?: string };
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(given)) {
        out[key] = toJsonSchemas(value, key === 'response' ? 'output' : 'input');
      }
      out.description = [given.description, SCOPE_WORDS[scope]].filter(Boolean).join('\n\n');
      // Grouped on the page by what they act on: /v1/<group>/…, the rest under "service".
      out.tags = given.tags ?? [/^\/v1\/([^/]+)/.exec(url)?.[1] ?? 'service'];
      out['x-scope'] = scope;
      out.security = scope === 'public' ? [] : [{ bearer: [] }, { session: [] }];
      return { schema: out as FastifySchema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
}
