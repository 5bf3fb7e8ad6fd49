import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type ConfigInput, loadConfig } from '../../src/config.js';
import { keysFor } from '../../src/redis/keys.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
let running: RunningApi | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

const TOKEN = 'ndjson-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const ndjson = { ...auth, 'content-type': 'application/x-ndjson' };

async function start(overrides: ConfigInput = {}): Promise<RunningApi> {
  running = await buildApi({
    config: loadConfig({
      env: {},
      overrides: { redisUrl: ctx.url, prefix: ctx.prefix, apiToken: TOKEN, ...overrides },
    }),
  });
  return running;
}

const line = (i: number, extra: object = {}) =>
  JSON.stringify({
    id: `nd-${i}`,
    task: 'generate',
    messages: [{ role: 'user', content: `Hi ${i}` }],
    ...extra,
  });
const lines = (from: number, to: number) => {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(line(i));
  return out;
};

async function total(batchId: string): Promise<number> {
  return Number((await ctx.redis.hget(keysFor(ctx.prefix).batch(batchId), 'total')) ?? 0);
}

async function waiting(): Promise<number> {
  const queue = new Queue('jobs', { connection: { url: ctx.url }, prefix: keysFor(ctx.prefix).bullPrefix });
  try {
    return (await queue.getJobCounts('waiting')).waiting ?? 0;
  } finally {
    await queue.close();
  }
}

/** A POST whose body the test writes piece by piece, over a real socket. */
function streamingPost(api: RunningApi, path: string) {
  const { port } = api.app.server.address() as AddressInfo;
  const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: ndjson });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
  });
  return {
    write: (text: string) => new Promise<void>((resolve) => req.write(text, () => resolve())),
    end: async () => {
      req.end();
      return answer;
    },
  };
}

describe('NDJSON batches', () => {
  it('streams 5,000 jobs in chunks, enqueueing while the body is still arriving', async () => {
    const api = await start({ api: { ndjsonChunkJobs: 700 } });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const post = streamingPost(api, '/v1/batches?batchId=streamed');

    await post.write(`${lines(1, 2_000).join('\n')}\n`);
    // The first chunks are in Redis before the rest of the body is even sent.
    await expect.poll(() => total('streamed'), { timeout: 20_000 }).toBeGreaterThanOrEqual(1_400);
    await post.write(`${lines(2_001, 5_000).join('\n')}\n`);
    const answer = await post.end();

    expect(answer.status).toBe(202);
    expect(JSON.parse(answer.body)).toEqual({ batchId: 'streamed', enqueued: 5_000, duplicates: 0 });
    expect(await total('streamed')).toBe(5_000);
    expect(await waiting()).toBe(5_000);
  });

  it('refuses a bad line naming its number and field, keeping every line before it', async () => {
    const api = await start({ api: { ndjsonChunkJobs: 1_000 } });
    const body = lines(1, 5_000);
    body[2_500] = line(2_501, { params: { temperature: 3 } });

    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=half',
      headers: ndjson,
      payload: body.join('\n'),
    });
    const accepted = await total('half');
    const rest = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=half',
      headers: ndjson,
      payload: lines(2_501, 5_000).join('\n'),
    });

    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'line 2501: job.params.temperature: must be at most 1',
      line: 2_501,
      field: 'job.params.temperature',
      batchId: 'half',
      accepted: { enqueued: 2_500, duplicates: 0 },
    });
    expect(accepted).toBe(2_500);
    expect(rest.json()).toEqual({ batchId: 'half', enqueued: 2_500, duplicates: 0 });
    expect(await total('half')).toBe(5_000);
  });

  it('answers a refused line over a real socket while the client is still sending', async () => {
    const api = await start({ api: { ndjsonChunkJobs: 100 } });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const post = streamingPost(api, '/v1/batches?batchId=early');

    await post.write(`${lines(1, 150).join('\n')}\n{"task":\n`);
    await post.write(`${lines(152, 3_000).join('\n')}\n`);
    const answer = await post.end();

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ line: 151, accepted: { enqueued: 150 } });
    expect(JSON.parse(answer.body).error).toMatch(/^line 151: is not valid JSON/);
    expect(await total('early')).toBe(150);
  });

  it.each([
    ['a line that is not JSON', `${line(1)}\n{"id":`, 400, /^line 2: is not valid JSON/],
    ['a prototype key', `${line(1)}\n{"__proto__":{}}`, 400, /^line 2: the key "__proto__" is not allowed/],
    ['a missing field', `\n\n${line(1)}\n{"task":"summarize"}`, 400, /^line 4: job\.document: is required/],
    [
      'another batch id',
      `${line(1)}\n${line(2, { batchId: 'other' })}`,
      400,
      /^line 2: job\.batchId: is "other"/,
    ],
    [
      'a line over the limit',
      `${line(1)}\n${'x'.repeat(80 * 1024)}\n`,
      413,
      /^line 2: is longer than 66560 bytes/,
    ],
    [
      'a document over the limit',
      line(1, { task: 'summarize', messages: undefined, document: 'y'.repeat(2_000) }),
      413,
      /^line 1: job\.document: is 2000 bytes/,
    ],
  ])('refuses %s with the line number', async (_what, payload, status, error) => {
    const api = await start({ limits: { maxDocumentBytes: 1_024 } });

    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=b',
      headers: ndjson,
      payload,
    });

    expect(res.statusCode).toBe(status);
    expect(res.json().error).toMatch(error);
  });

  it('takes CRLF line ends and blank lines, and the batch id of the first line', async () => {
    const api = await start();

    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: ndjson,
      payload: `${line(1, { batchId: 'from-line' })}\r\n\r\n${line(2)}\r\n`,
    });

    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ batchId: 'from-line', enqueued: 2, duplicates: 0 });
  });

  it('refuses unknown or bad query parameters, and query parameters on a JSON body', async () => {
    const api = await start();

    const unknown = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batch=x',
      headers: ndjson,
      payload: line(1),
    });
    const badId = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=a:b',
      headers: ndjson,
      payload: line(1),
    });
    const onJson = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=x',
      headers: auth,
      payload: { jobs: [JSON.parse(line(1))] },
    });

    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toBe(
      'query.batch: is not a field of a batch (expected batchId, callbackUrl, callbackOn, lane, deadline)',
    );
    expect(badId.json().error).toMatch(/^query\.batchId: must not contain ":"/);
    expect(onJson.json().error).toMatch(/^query\.batchId: only for application\/x-ndjson bodies/);
  });

  it('refuses an empty body, unless it closes a batch that exists', async () => {
    const api = await start();
    await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=open',
      headers: ndjson,
      payload: line(1),
    });

    const empty = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=nope',
      headers: ndjson,
      payload: '\n',
    });
    const closes = await api.app.inject({
      method: 'POST',
      url: '/v1/batches?batchId=open',
      headers: ndjson,
      payload: '',
    });

    expect(empty.statusCode).toBe(400);
    expect(empty.json().error).toMatch(/^body: holds no job/);
    expect(closes.statusCode).toBe(202);
    expect(closes.json()).toEqual({ batchId: 'open', enqueued: 0, duplicates: 0 });
  });

  it('takes NDJSON on POST /v1/batches only', async () => {
    const api = await start();

    const res = await api.app.inject({ method: 'POST', url: '/v1/jobs', headers: ndjson, payload: line(1) });

    expect(res.statusCode).toBe(415);
    expect(res.json().error).toMatch(/NDJSON batches go to POST \/v1\/batches/);
  });
});
