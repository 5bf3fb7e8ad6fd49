import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { BULLMQ_RESERVED_IDS } from '../../src/redis/keys.js';
import {
  anyId,
  CLEAN_EVERY,
  fuzzRuns,
  fuzzTimeout,
  hostileJob,
  hostileString,
  percentEncode,
  strayKeys,
} from '../helpers/fuzz.js';
import { deleteKeys, useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const TOKEN = 'fuzz-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const DOCUMENT_BYTES = 4 * 1024;
const RUNS = fuzzRuns(150);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function config(overrides: ConfigInput = {}): Config {
  return loadConfig({
    env: {},
    overrides: { redisUrl: ctx.url, prefix: ctx.prefix, apiToken: TOKEN, ...overrides },
  });
}

/** JSON text of `value` as a careless client writes it: NaN and Infinity become null. */
const json = (value: unknown) => JSON.stringify(value) ?? 'null';

/** Mostly JSON, as the routes take it; now and then a type they do not. */
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/x-ndjson',
      'text/plain',
      'application/x-www-form-urlencoded',
      undefined,
    ),
  },
);

/** Bodies no route takes: any JSON, raw bytes, very deep nesting, broken or prototype-keyed JSON. */
const junk = fc.oneof(
  fc.jsonValue().map(json),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.constantFrom('', '{', '{"__proto__":{"task":"generate"}}', 'null', '[]'),
);

/** A body for POST /v1/jobs: a hostile job, sometimes junk. */
const jobBody = fc.oneof(
  { weight: 8, arbitrary: hostileJob(DOCUMENT_BYTES).map(json) },
  { weight: 1, arbitrary: junk },
);

/** A body for POST /v1/batches: hostile jobs under hostile batch fields, sometimes junk. */
const batchBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(hostileJob(DOCUMENT_BYTES), { minLength: 1, maxLength: 3 })
      .map((jobs) => json({ jobs })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record(
        {
          jobs: fc.array(hostileJob(DOCUMENT_BYTES), { maxLength: 2 }),
          batchId: fc.oneof(hostileString, fc.constantFrom('b-1', 'b-2')),
          callbackUrl: hostileString,
          callbackOn: hostileString,
          extra: hostileString,
        },
        { requiredKeys: ['jobs'] },
      )
      .map(json),
  },
  { weight: 1, arbitrary: junk },
);

/** An NDJSON body: good, bad and blank lines, some not UTF-8. */
const ndjson = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: hostileJob(DOCUMENT_BYTES).map((j) => Buffer.from(json(j))) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(Buffer.from(''), Buffer.from('not json'), Buffer.from([0xff, 0xfe])),
      },
    ),
    { maxLength: 6 },
  )
  .map((lines) => Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));

/** A request to one of the routes that take input. */
const request: fc.Arbitrary<InjectOptions> = fc.oneof(
  fc.tuple(jobBody, contentType).map(([payload, type]) => ({
    method: 'POST' as const,
    url: '/v1/jobs',
    payload,
    headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
  })),
  fc.tuple(batchBody, contentType).map(([payload, type]) => ({
    method: 'POST' as const,
    url: '/v1/batches',
    payload,
    headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
  })),
  fc.tuple(ndjson, fc.option(anyId)).map(([payload, batchId]) => ({
    method: 'POST' as const,
    url: `/v1/batches${typeof batchId === 'string' ? `?batchId=${percentEncode(batchId)}` : ''}`,
    payload,
    headers: { ...auth, 'content-type': 'application/x-ndjson' },
  })),
  fc
    .tuple(
      fc.constantFrom(
        'GET /v1/jobs/',
        'GET /v1/batches/',
        'GET /v1/batches/:/results',
        'POST /v1/batches/:/retry-failed',
      ),
      anyId.filter((id): id is string => id !== undefined),
      fc.boolean(),
    )
    .map(([route, id, encode]) => {
      const [method, path] = route.split(' ') as ['GET' | 'POST', string];
      // Raw or percent-encoded: the router decodes, so both spellings must be checked the same.
      const part = encode ? percentEncode(id) : id.replace(/[?#%\s]/g, percentEncode);
      const url = path.includes(':') ? path.replace(':', part) : `${path}${part}`;
      return { method, url, headers: auth };
    }),
);

/** What every answer must be: no 5xx, and a refusal is a short JSON `{ error }` without a stack. */
function expectClearAnswer(res: LightMyRequestResponse): void {
  expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
  if (res.statusCode < 400) return;
  const parsed = JSON.parse(res.body) as { error?: unknown };
  expect(typeof parsed.error).toBe('string');
  const error = parsed.error as string;
  expect(error.length).toBeGreaterThan(0);
  expect(error.length).toBeLessThan(2_000);
  expect(error).not.toMatch(/\n\s+at /);
}

/** Ids a request could have made keys for: strings it sent, and the uuids the API gives jobs without one. */
function sentStrings(options: InjectOptions, into: Set<string>): void {
  const text = Buffer.isBuffer(options.payload)
    ? options.payload.toString('utf8')
    : String(options.payload ?? '');
  for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    try {
      into.add(JSON.parse(`"${m[1]}"`) as string);
    } catch {
      // not a JSON string
    }
  }
  for (const part of String(options.url).split(/[/?=&]/)) {
    try {
      into.add(decodeURIComponent(part));
    } catch {
      into.add(part);
    }
  }
}

describe('the HTTP API with hostile requests', () => {
  it(
    'answers every request with a job or a short 4xx naming the problem, never a 500, and keeps no key under an id nobody sent',
    async () => {
      const api = await buildApi({ config: config({ limits: { maxDocumentBytes: DOCUMENT_BYTES } }) });
      const sent = new Set<string>();
      const audit = async () => {
        const stray = await strayKeys(ctx.redis, ctx.prefix, { has: (id) => sent.has(id) || UUID.test(id) });
        // Each job hash holds the job of its own id.
        const jobKeys = (await ctx.redis.keys(`${ctx.prefix}:jobs:*`)).filter((k) => {
          const id = k.slice(`${ctx.prefix}:jobs:`.length);
          return !id.includes(':') && !BULLMQ_RESERVED_IDS.has(id);
        });
        for (const key of jobKeys) {
          const data = await ctx.redis.hget(key, 'data');
          expect(data && (JSON.parse(data) as { id?: string }).id).toBe(
            key.slice(`${ctx.prefix}:jobs:`.length),
          );
        }
        expect(stray).toEqual([]);
        await deleteKeys(ctx.redis, ctx.prefix);
      };
      let n = 0;
      const answered = { accepted: 0, refused: 0 };
      try {
        await fc.assert(
          fc.asyncProperty(request, async (options) => {
            sentStrings(options, sent);
            const res = await api.app.inject(options);
            expectClearAnswer(res);
            answered[res.statusCode < 300 ? 'accepted' : 'refused']++;
            if (++n % CLEAN_EVERY === 0) await audit();
          }),
          { numRuns: RUNS },
        );
        await audit();
        expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
        // Not a vacuous run: the generators reach both sides.
        expect(answered.accepted).toBeGreaterThan(0);
        expect(answered.refused).toBeGreaterThan(0);
      } finally {
        await api.close();
      }
    },
    fuzzTimeout(RUNS, 30),
  );
});

describe('the HTTP API over a real socket, with what fuzzing does not reach', () => {
  async function listening(): Promise<{
    api: RunningApi;
    post: (
      path: string,
      body: Buffer | string,
      type?: string,
    ) => Promise<{ status: number; body: Record<string, unknown> }>;
  }> {
    const api = await buildApi({ config: config() });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const post = async (path: string, payload: Buffer | string, type = 'application/json') => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': type },
        body: payload,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    return { api, post };
  }

  it('refuses a 10 MB document, a body that is not UTF-8, deep nesting and a bad NDJSON line, then answers as before', async () => {
    const { api, post } = await listening();
    try {
      const huge = json({ task: 'summarize', document: 'd'.repeat(10 * 1024 * 1024) });
      const hugeLine = `${json({ id: 'fine-1', task: 'summarize', document: 'short' })}\n${huge}\n`;
      const ndjson = ['ok-1', 'ok-2', 'ok-3'].map((id) =>
        json({ id, task: 'generate', messages: [{ role: 'user', content: 'Hi' }] }),
      );

      const tooBig = await post('/v1/jobs', huge);
      const tooBigLine = await post('/v1/batches?batchId=big', hugeLine, 'application/x-ndjson');
      const notUtf8 = await post('/v1/jobs', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]));
      const deep = await post('/v1/jobs', `${'['.repeat(200_000)}${']'.repeat(200_000)}`);
      const partial = await post(
        '/v1/batches?batchId=partial',
        `${ndjson.join('\n')}\n{"__proto__":{}}\n${ndjson[0]}\n`,
        'application/x-ndjson',
      );
      const after = await post(
        '/v1/jobs',
        json({ id: 'after', task: 'generate', messages: [{ role: 'user', content: 'Hi' }] }),
      );

      expect(tooBig).toMatchObject({
        status: 413,
        body: { error: expect.stringMatching(/^job\.document: is 10485760 bytes of UTF-8, over the limit/) },
      });
      expect(tooBigLine).toMatchObject({
        status: 413,
        body: { line: 2, accepted: { enqueued: 1, duplicates: 0 } },
      });
      expect(notUtf8).toEqual({ status: 400, body: { error: 'body: is not valid UTF-8' } });
      expect(deep.status).toBe(400);
      expect(String(deep.body.error)).toMatch(/^job: must be an object/);
      expect(partial).toMatchObject({
        status: 400,
        body: { line: 4, batchId: 'partial', accepted: { enqueued: 3, duplicates: 0 } },
      });
      expect(String(partial.body.error)).toMatch(/^line 4: the key "__proto__" is not allowed/);
      expect(after).toEqual({ status: 202, body: { id: 'after', status: 'enqueued' } });
    } finally {
      await api.close();
    }
  });
});
