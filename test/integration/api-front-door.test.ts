import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type Config, type ConfigInput, loadConfig } from '../../src/config.js';
import { keysFor } from '../../src/redis/keys.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
let running: RunningApi | undefined;
let base = '';

afterEach(async () => {
  await running?.close();
  running = undefined;
});

function config(overrides: ConfigInput = {}): Config {
  return loadConfig({
    env: {},
    overrides: { redisUrl: ctx.url, prefix: ctx.prefix, apiToken: 'front-door-token', ...overrides },
  });
}

async function listen(c: Config = config()): Promise<RunningApi> {
  running = await buildApi({ config: c });
  await running.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(running.app.server.address() as AddressInfo).port}`;
  return running;
}

interface Answer {
  status: number;
  body: string;
}

/** Sends the path byte for byte, as `curl --path-as-is` does: no client normalizes it first. */
function send(method: string, path: string, body?: string | Buffer, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/`, {
      method,
      path,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const job = (id: string) =>
  JSON.stringify({ id, task: 'generate', messages: [{ role: 'user', content: 'Hi' }] });
/** A job whose id is spliced into the JSON text as is, so escapes like `\\uD800` reach the parser. */
const rawJob = (idJson: string) =>
  `{"id":"${idJson}","task":"generate","messages":[{"role":"user","content":"Hi"}]}`;

/** Every route but /healthz, as [method, path, body]. */
const ROUTES: [string, string, string | undefined][] = [
  ['POST', '/v1/jobs', job('door-1')],
  ['POST', '/v1/batches', `{"jobs":[${job('door-2')}]}`],
  ['GET', '/v1/jobs/door-1', undefined],
  ['GET', '/v1/batches/b1', undefined],
  ['GET', '/v1/batches/b1/results', undefined],
  ['GET', '/v1/models', undefined],
  ['GET', '/metrics', undefined],
];

/** Spellings of a path that a router may decode or normalize to the same route. */
function disguises(path: string): string[] {
  const rest = path.slice(1);
  return [
    path,
    `/%76${rest.slice(1)}`, // v
    path.replace('/v1/', '/%76%31/'),
    path.replace('/v1/', '/v%31/'),
    `/${rest.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`,
    `/${path}`,
    path.replace(/^\/([^/]+)/, '//$1'),
    `/x/..${path}`,
    `/.${path}`,
    path.toUpperCase(),
    path.replace('/v1/', '/V1/'),
    `${path}?x=1`,
    `${path}/`,
  ];
}

describe('authentication at the front door', () => {
  it('answers 401 without the token for every route, however its path is spelled', async () => {
    await listen();
    const answers: string[] = [];

    for (const [method, path, body] of ROUTES) {
      for (const spelled of disguises(path)) {
        const { status } = await send(method, spelled, body);
        if (status !== 401) answers.push(`${method} ${spelled} → ${status}`);
      }
    }

    expect(answers).toEqual([]);
  });

  it('routes a percent-encoded path to the real route once the token is given', async () => {
    await listen();

    const created = await send('POST', '/%761/jobs', job('encoded-1'), 'front-door-token');
    const read = await send('GET', '/v%31/jobs/encoded-1', undefined, 'front-door-token');

    // The disguised path reaches the job route: so the 401 above is the check, not a 404.
    expect(created.status).toBe(202);
    expect(JSON.parse(read.body)).toEqual({ id: 'encoded-1', status: 'waiting' });
  });

  it('keeps /healthz open, and /metrics open only when configured so', async () => {
    await listen();
    const health = await send('GET', '/healthz');
    const metrics = await send('GET', '/metrics');
    await running?.close();
    await listen(config({ api: { publicMetrics: true } }));
    const publicMetrics = await send('GET', '/metrics');

    expect(health.status).toBe(200);
    expect(metrics.status).toBe(401);
    expect(publicMetrics.status).toBe(200);
    expect(publicMetrics.body).toMatch(/^# HELP/m);
  });

  it('answers 401, not 400, to a path the router refuses when the token is missing or wrong', async () => {
    await listen();
    const refused = [
      `/v1/batches/${'b'.repeat(800)}`,
      `/v1/jobs/${'a'.repeat(401)}/x`,
      '/v1/jobs/%ED%A0%80',
      '/v1/%ff',
    ];
    const answers: string[] = [];

    for (const path of refused) {
      for (const token of [undefined, 'front-door-wrong-token']) {
        const { status, body } = await send('GET', path, undefined, token);
        answers.push(`${path.slice(0, 20)} ${token ?? 'none'} → ${status} ${body}`);
      }
    }
    const withToken = await send('GET', refused[0] ?? '', undefined, 'front-door-token');

    expect(answers).toEqual(
      refused.flatMap((path) =>
        [
          'none → 401 {"error":"missing or wrong bearer token"}',
          'front-door-wrong-token → 401 {"error":"missing or wrong bearer token"}',
        ].map((a) => `${path.slice(0, 20)} ${a}`),
      ),
    );
    expect(withToken.status).toBe(400);
  });

  it('lets a logged-in browser see why its path was refused, from the session cookie alone', async () => {
    const api = await listen();
    const login = await api.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { token: 'front-door-token' },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';

    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = request(`${base}/`, { method: 'GET', path: '/v1/jobs/%ED%A0%80', headers: { cookie } });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end();
    });

    expect(answer).toEqual({ status: 400, body: '{"error":"path: is not valid percent-encoded UTF-8"}' });
  });

  it('needs the token on paths that match no route, so the route table does not leak', async () => {
    await listen();

    const unknown = await send('GET', '/v1/secret-admin');
    const unknownWithToken = await send('GET', '/v1/secret-admin', undefined, 'front-door-token');

    expect(unknown.status).toBe(401);
    expect(unknownWithToken.status).toBe(404);
  });
});

describe('ids at the front door', () => {
  const T = 'front-door-token';

  it('refuses ids that reach internal keys on read routes, with 400 naming the problem', async () => {
    await listen();

    const batchKeys = await send('GET', '/v1/batches/b1:jobs', undefined, T);
    const bullMeta = await send('GET', '/v1/jobs/meta', undefined, T);
    const braces = await send('GET', '/v1/jobs/%7Bbj%7D', undefined, T);

    expect(batchKeys.status).toBe(400);
    expect(JSON.parse(batchKeys.body).error).toMatch(/^batch id: must not contain ":"/);
    expect(bullMeta.status).toBe(400);
    expect(JSON.parse(bullMeta.body).error).toMatch(/^id: is a name BullMQ uses/);
    expect(braces.status).toBe(400);
  });

  it('reads back ids of up to 200 characters, and refuses longer or badly encoded path parts in its own words', async () => {
    await listen();
    const long = `${'a'.repeat(150)}-${'😀'.repeat(49)}`;

    const enqueued = await send('POST', '/v1/jobs', job(long), T);
    const read = await send('GET', `/v1/jobs/${encodeURIComponent(long)}`, undefined, T);
    const batch = await send('GET', `/v1/batches/${'b'.repeat(200)}`, undefined, T);
    const tooLong = await send('GET', `/v1/jobs/${'a'.repeat(401)}`, undefined, T);
    const badEncoding = await send('GET', '/v1/jobs/%ED%A0%80', undefined, T);

    expect([...long].length).toBe(200);
    expect(enqueued.status).toBe(202);
    expect(read.status).toBe(200);
    expect(JSON.parse(read.body)).toEqual({ id: long, status: 'waiting' });
    expect(batch.status).toBe(404);
    expect(tooLong.status).toBe(400);
    expect(JSON.parse(tooLong.body)).toEqual({
      error: 'path: a part of it is longer than any id can be (ids are at most 200 characters)',
    });
    expect(badEncoding.status).toBe(400);
    expect(JSON.parse(badEncoding.body)).toEqual({ error: 'path: is not valid percent-encoded UTF-8' });
  });

  it('refuses two ids that differ only in lone surrogates instead of running one of them', async () => {
    await listen();
    const queue = new Queue('jobs', { connection: { url: ctx.url }, prefix: keysFor(ctx.prefix).bullPrefix });

    const first = await send('POST', '/v1/jobs', rawJob('sur-\\uD800'), T);
    const second = await send('POST', '/v1/jobs', rawJob('sur-\\uDBFF'), T);
    const counts = await queue.getJobCounts('waiting');
    await queue.close();

    expect(first.status).toBe(400);
    expect(JSON.parse(first.body).error).toMatch(/^job\.id: must be well-formed Unicode/);
    expect(second.status).toBe(400);
    expect(counts.waiting).toBe(0);
  });

  it('refuses ids holding control characters and bodies that are not UTF-8', async () => {
    await listen();

    const newline = await send('POST', '/v1/jobs', rawJob('line\\nbreak'), T);
    const bytes = Buffer.concat([
      Buffer.from('{"id":"collide-'),
      Buffer.from([0xff]),
      Buffer.from('","task":"generate"}'),
    ]);
    const notUtf8 = await send('POST', '/v1/jobs', bytes, T);

    expect(newline.status).toBe(400);
    expect(JSON.parse(newline.body).error).toMatch(/^job\.id: must hold only letters/);
    expect(notUtf8.status).toBe(400);
    expect(JSON.parse(notUtf8.body).error).toBe('body: is not valid UTF-8');
  });
});

describe('sizes and shapes at the front door', () => {
  const T = 'front-door-token';

  it('answers 413 for a document over limits.maxDocumentBytes, naming the field and the limit', async () => {
    await listen(config({ limits: { maxDocumentBytes: 1_000 } }));

    const big = await send(
      'POST',
      '/v1/jobs',
      JSON.stringify({ id: 'big-1', task: 'summarize', document: 'word '.repeat(300) }),
      T,
    );

    expect(big.status).toBe(413);
    expect(JSON.parse(big.body).error).toBe(
      'job.document: is 1500 bytes of UTF-8, over the limit of 1000 (limits.maxDocumentBytes)',
    );
  });

  it('answers 413 for a body over api.bodyLimitBytes, saying how to send it', async () => {
    await listen(config({ api: { bodyLimitBytes: 64 * 1024 } }));

    const huge = await send('POST', '/v1/batches', `{"jobs":[${Array(2_000).fill(job('x')).join(',')}]}`, T);

    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.body).error).toMatch(/^body: larger than 65536 bytes \(api\.bodyLimitBytes\)/);
  });

  it('refuses unknown fields of a batch and prototype keys, each with its own message', async () => {
    await listen();

    const extra = await send('POST', '/v1/batches', `{"jobs":[${job('s-1')}],"callback":"x"}`, T);
    const proto = await send('POST', '/v1/jobs', '{"__proto__":{"admin":true},"task":"generate"}', T);
    const ctor = await send('POST', '/v1/jobs', '{"constructor":{"prototype":{}},"task":"generate"}', T);
    const broken = await send('POST', '/v1/jobs', '{"task":', T);

    expect(extra.status).toBe(400);
    expect(JSON.parse(extra.body).error).toBe(
      'body.callback: is not a field of a batch (expected batchId, jobs, callbackUrl, callbackOn, lane, deadline)',
    );
    expect(proto.status).toBe(400);
    expect(JSON.parse(proto.body).error).toBe(
      'body: the key "__proto__" is not allowed (it can alter object prototypes)',
    );
    expect(ctor.status).toBe(400);
    expect(JSON.parse(broken.body).error).toMatch(/^body: is not valid JSON/);
  });
});
