import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { type ConfigInput, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
let running: RunningApi | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** One token per scope, and API_TOKEN, which is admin. */
const TOKENS = {
  read: 'read-token-0123456789',
  enqueue: 'enqueue-token-0123456789',
  admin: 'admin-token-0123456789',
  apiToken: 'api-token-0123456789',
} as const;
type Who = 'none' | 'wrong' | keyof typeof TOKENS;
const EVERYONE: Who[] = ['none', 'wrong', 'read', 'enqueue', 'apiToken', 'admin'];

function config(api: NonNullable<ConfigInput['api']> = {}) {
  return loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      apiToken: TOKENS.apiToken,
      api: {
        tokens: [
          { name: 'viewer', scope: 'read', token: TOKENS.read },
          { name: 'ci', scope: 'enqueue', token: TOKENS.enqueue },
          { name: 'ops', scope: 'admin', token: TOKENS.admin },
        ],
        // Every route is tried with a wrong token here; the limit on that has its own tests.
        failedAuthLimit: 0,
        ...api,
      },
    },
  });
}

function headers(who: Who): Record<string, string> {
  if (who === 'none') return {};
  return { authorization: `Bearer ${who === 'wrong' ? 'wrong-token-0123456789' : TOKENS[who]}` };
}

let seq = 0;
const job = () => ({ id: `scope-${++seq}`, task: 'generate', messages: [{ role: 'user', content: 'Hi' }] });

interface Route {
  name: string;
  needs: 'public' | 'read' | 'enqueue';
  send: (h: Record<string, string>) => Promise<{ statusCode: number; json(): { error?: string } }>;
}

/** Every route of the API, with the scope the README gives it. */
function routes(api: RunningApi): Route[] {
  const { app } = api;
  const get = (url: string) => (h: Record<string, string>) => app.inject({ method: 'GET', url, headers: h });
  return [
    { name: 'GET /healthz', needs: 'public', send: get('/healthz') },
    { name: 'GET /metrics', needs: 'read', send: get('/metrics') },
    { name: 'GET /v1/jobs/:id', needs: 'read', send: get('/v1/jobs/scope-1') },
    { name: 'GET /v1/batches/:id', needs: 'read', send: get('/v1/batches/b1') },
    { name: 'GET /v1/batches/:id/results', needs: 'read', send: get('/v1/batches/b1/results') },
    { name: 'GET /v1/batches', needs: 'read', send: get('/v1/batches') },
    { name: 'GET /v1/models', needs: 'read', send: get('/v1/models') },
    { name: 'GET /ui', needs: 'public', send: get('/ui') },
    { name: 'GET /ui/app.js', needs: 'public', send: get('/ui/app.js') },
    { name: 'GET /ui/queues', needs: 'read', send: get('/ui/queues') },
    { name: 'GET /docs', needs: 'read', send: get('/docs') },
    { name: 'GET /docs/json', needs: 'read', send: get('/docs/json') },
    {
      name: 'POST /v1/jobs',
      needs: 'enqueue',
      send: (h) => app.inject({ method: 'POST', url: '/v1/jobs', headers: h, payload: job() }),
    },
    {
      name: 'POST /v1/batches (JSON)',
      needs: 'enqueue',
      send: (h) => app.inject({ method: 'POST', url: '/v1/batches', headers: h, payload: { jobs: [job()] } }),
    },
    {
      name: 'POST /v1/batches (NDJSON)',
      needs: 'enqueue',
      send: (h) =>
        app.inject({
          method: 'POST',
          url: '/v1/batches',
          headers: { ...h, 'content-type': 'application/x-ndjson' },
          payload: `${JSON.stringify(job())}\n${JSON.stringify(job())}\n`,
        }),
    },
    {
      name: 'POST /v1/batches/:id/retry-failed',
      needs: 'enqueue',
      send: (h) => app.inject({ method: 'POST', url: '/v1/batches/b1/retry-failed', headers: h }),
    },
    {
      name: 'POST /v1/session',
      needs: 'public',
      send: (h) =>
        app.inject({ method: 'POST', url: '/v1/session', headers: h, payload: { token: TOKENS.read } }),
    },
    {
      name: 'DELETE /v1/session',
      needs: 'public',
      send: (h) => app.inject({ method: 'DELETE', url: '/v1/session', headers: h }),
    },
  ];
}

/** What a caller should get: 401 without a valid token, 403 without the scope, else through. */
function expected(needs: Route['needs'], who: Who): 'through' | 401 | 403 {
  if (needs === 'public') return 'through';
  if (who === 'none' || who === 'wrong') return 401;
  const rank = { read: 1, enqueue: 2, admin: 3, apiToken: 3 }[who];
  return rank >= { read: 1, enqueue: 2 }[needs] ? 'through' : 403;
}

describe('scopes', () => {
  it('lets each token through exactly the routes its scope covers', async () => {
    running = await buildApi({ config: config() });
    const want: string[] = [];
    const got: string[] = [];

    for (const route of routes(running)) {
      for (const who of EVERYONE) {
        const { statusCode } = await route.send(headers(who));
        const outcome = statusCode === 401 || statusCode === 403 ? statusCode : 'through';
        want.push(`${route.name} as ${who} → ${expected(route.needs, who)}`);
        got.push(`${route.name} as ${who} → ${outcome}`);
      }
    }

    expect(got).toEqual(want);
  });

  it('answers 403 naming the scope the route needs and the scope the token has', async () => {
    running = await buildApi({ config: config() });

    const res = await running.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: headers('read'),
      payload: job(),
    });

    expect(res.statusCode).toBe(403);
    expect(res.json().error).toBe(
      'this route needs a token with the "enqueue" scope; token "viewer" has "read"',
    );
  });

  it('lets an enqueue token enqueue, and answers it like the single API_TOKEN did', async () => {
    running = await buildApi({ config: config() });

    const one = await running.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: headers('enqueue'),
      payload: job(),
    });
    const batch = await running.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: headers('enqueue'),
      payload: { batchId: 'scoped', jobs: [job(), job()] },
    });

    expect(one.statusCode).toBe(202);
    expect(batch.statusCode).toBe(202);
    expect(batch.json()).toEqual({ batchId: 'scoped', enqueued: 2, duplicates: 0 });
  });

  it('keeps a route that declares no scope for admin tokens only', async () => {
    running = await buildApi({ config: config() });
    running.app.get('/v1/undeclared', async () => ({ ok: true }));

    const read = await running.app.inject({ method: 'GET', url: '/v1/undeclared', headers: headers('read') });
    const enqueue = await running.app.inject({
      method: 'GET',
      url: '/v1/undeclared',
      headers: headers('enqueue'),
    });
    const admin = await running.app.inject({
      method: 'GET',
      url: '/v1/undeclared',
      headers: headers('admin'),
    });
    const apiToken = await running.app.inject({
      method: 'GET',
      url: '/v1/undeclared',
      headers: headers('apiToken'),
    });

    expect(read.statusCode).toBe(403);
    expect(read.json().error).toMatch(/needs a token with the "admin" scope/);
    expect(enqueue.statusCode).toBe(403);
    expect(admin.json()).toEqual({ ok: true });
    expect(apiToken.json()).toEqual({ ok: true });
  });

  it('gives bull-board under /ui/queues to read tokens to look at and to admin tokens to act on', async () => {
    running = await buildApi({ config: config() });
    const { app } = running;
    const retry = (who: Who) =>
      app.inject({ method: 'PUT', url: '/ui/queues/api/queues/jobs/retry/failed', headers: headers(who) });

    const look = await app.inject({ method: 'GET', url: '/ui/queues/api/queues', headers: headers('read') });
    const lookAnon = await app.inject({ method: 'GET', url: '/ui/queues/api/queues' });
    const act = await retry('enqueue');
    const actAdmin = await retry('admin');

    expect(look.statusCode).toBe(200);
    expect(look.json<{ queues: { name: string }[] }>().queues.map((q) => q.name)).toEqual(['jobs']);
    expect(lookAnon.statusCode).toBe(401);
    expect(act.statusCode).toBe(403);
    expect(act.json().error).toMatch(/"admin" scope/);
    expect(actAdmin.statusCode).toBe(200);
  });

  it('checks HEAD requests as the GET route they answer for', async () => {
    running = await buildApi({ config: config() });

    const anon = await running.app.inject({ method: 'HEAD', url: '/v1/models' });
    const read = await running.app.inject({ method: 'HEAD', url: '/v1/models', headers: headers('read') });

    expect(anon.statusCode).toBe(401);
    expect(read.statusCode).toBe(200);
  });

  it('answers 404 to any valid token on a path that matches no route, 401 without one', async () => {
    running = await buildApi({ config: config() });

    const anon = await running.app.inject({ method: 'GET', url: '/v1/nothing-here' });
    const read = await running.app.inject({
      method: 'GET',
      url: '/v1/nothing-here',
      headers: headers('read'),
    });

    expect(anon.statusCode).toBe(401);
    expect(read.statusCode).toBe(404);
  });

  it('opens /docs and /docs/json to everyone only with api.publicDocs', async () => {
    running = await buildApi({ config: config({ publicDocs: true }) });

    const page = await running.app.inject({ method: 'GET', url: '/docs' });
    const doc = await running.app.inject({ method: 'GET', url: '/docs/json' });
    const jobs = await running.app.inject({ method: 'GET', url: '/v1/models' });

    expect(page.statusCode).toBe(200);
    expect(doc.statusCode).toBe(200);
    expect(jobs.statusCode).toBe(401);
  });

  it('never writes a token or a session cookie to the log, while logging who was refused', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    running = await buildApi({
      config: config(),
      logger: createLogger({ level: 'trace', destination: sink }),
    });
    const { app } = running;

    await app.inject({ method: 'GET', url: '/v1/models', headers: headers('wrong') });
    await app.inject({ method: 'POST', url: '/v1/jobs', headers: headers('read'), payload: job() });
    const login = await app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { token: TOKENS.enqueue },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
    await app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { cookie, origin: 'https://elsewhere.example' },
      payload: job(),
    });
    const log = lines.join('');

    expect(log).toMatch(/"tokenName":"viewer".*scope too narrow/);
    expect(log).toMatch(/"tokenName":"ci".*cross-site request refused/);
    for (const secret of [...Object.values(TOKENS), 'wrong-token-0123456789', cookie.split('=')[1]]) {
      expect(log).not.toContain(secret);
    }
  });
});
