import SwaggerParser from '@apidevtools/swagger-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { loadConfig } from '../../src/config.js';
import { JobSchema } from '../../src/queue/jobs.js';
import { ResultRecordSchema } from '../../src/results/record.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
let running: RunningApi | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

const TOKEN = 'docs-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

async function start(): Promise<RunningApi> {
  running = await buildApi({
    config: loadConfig({ env: {}, overrides: { redisUrl: ctx.url, prefix: ctx.prefix, apiToken: TOKEN } }),
  });
  return running;
}

interface Operation {
  'x-scope': string;
  security: unknown[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  parameters?: { name: string; in: string }[];
  responses: Record<string, unknown>;
}
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: object; required?: string[] }> };
};

async function document(api: RunningApi): Promise<Doc> {
  const res = await api.app.inject({ method: 'GET', url: '/docs/json', headers: auth });
  expect(res.statusCode).toBe(200);
  return res.json<Doc>();
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3 document', async () => {
    const doc = await document(await start());

    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('lists every route with the scope it needs', async () => {
    const doc = await document(await start());
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => `${method.toUpperCase()} ${path} ${op['x-scope']}`),
    );

    expect(listed.sort()).toEqual(
      [
        'GET /healthz public',
        'GET /metrics read',
        'POST /v1/jobs enqueue',
        'GET /v1/jobs/{id} read',
        'POST /v1/batches enqueue',
        'POST /v1/batches/{id}/retry-failed enqueue',
        'GET /v1/batches read',
        'GET /v1/batches/{id} read',
        'GET /ui/stream read',
        'GET /v1/batches/{id}/results read',
        'GET /v1/batches/{id}/events read',
        'GET /v1/models read',
        'POST /v1/session public',
        'DELETE /v1/session public',
      ].sort(),
    );
    expect(doc.paths['/v1/jobs']?.post?.security).toEqual([{ bearer: [] }, { session: [] }]);
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
  });

  it('describes jobs and results with the schemas the producer and the store use', async () => {
    const doc = await document(await start());
    const job = z.toJSONSchema(JobSchema, { io: 'input' }) as { properties: object; required: string[] };
    const result = z.toJSONSchema(ResultRecordSchema) as { properties: object; required: string[] };
    const batches = doc.paths['/v1/batches']?.post;

    expect(doc.paths['/v1/jobs']?.post?.requestBody?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/Job',
    });
    expect(Object.keys(doc.components.schemas.Job?.properties ?? {})).toEqual(Object.keys(job.properties));
    expect(doc.components.schemas.Job?.required).toEqual(job.required);
    expect(Object.keys(doc.components.schemas.ResultRecord?.properties ?? {})).toEqual(
      Object.keys(result.properties),
    );
    expect(Object.keys(batches?.requestBody?.content ?? {})).toEqual([
      'application/json',
      'application/x-ndjson',
    ]);
    expect(batches?.parameters).toEqual([
      expect.objectContaining({ name: 'batchId', in: 'query' }),
      expect.objectContaining({ name: 'callbackUrl', in: 'query' }),
      expect.objectContaining({ name: 'callbackOn', in: 'query' }),
      expect.objectContaining({ name: 'lane', in: 'query' }),
      expect.objectContaining({ name: 'deadline', in: 'query' }),
    ]);
  });

  it('keeps the field-naming messages of the zod schemas, not a generic validator', async () => {
    const api = await start();

    const bad = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: auth,
      payload: { task: 'generate', messages: [{ role: 'user', content: 'x' }], params: { topP: 'high' } },
    });
    const badId = await api.app.inject({ method: 'GET', url: '/v1/batches/a:b', headers: auth });

    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'job.params.topP: must be a number, not string' });
    expect(badId.json().error).toMatch(/^batch id: must not contain ":"/);
  });

  it('serves the browsable page and its assets from this package, not a CDN', async () => {
    const api = await start();

    const page = await api.app.inject({ method: 'GET', url: '/docs', headers: auth });
    const html =
      page.statusCode === 302
        ? await api.app.inject({ method: 'GET', url: String(page.headers.location), headers: auth })
        : page;
    const scripts = [...html.body.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map(
      (m) => m[1] ?? '',
    );
    const assets = await Promise.all(
      scripts.map(async (src) => {
        const url = new URL(src, 'http://api.local/docs/').pathname;
        return (await api.app.inject({ method: 'GET', url, headers: auth })).statusCode;
      }),
    );

    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    expect(assets.every((s) => s === 200)).toBe(true);
  });
});
