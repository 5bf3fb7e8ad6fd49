import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { ManualClock } from '../../src/clock.js';
import { type ConfigInput, loadConfig } from '../../src/config.js';
import { HOUR, SECOND } from '../../src/units.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
let running: RunningApi[] = [];

afterEach(async () => {
  for (const api of running) await api.close();
  running = [];
});

const READ = 'read-token-0123456789';
const ENQUEUE = 'enqueue-token-0123456789';

async function start(api: NonNullable<ConfigInput['api']> = {}, clock?: ManualClock): Promise<RunningApi> {
  const config = loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      api: {
        tokens: [
          { name: 'viewer', scope: 'read', token: READ },
          { name: 'ci', scope: 'enqueue', token: ENQUEUE },
        ],
        ...api,
      },
    },
  });
  const api_ = await buildApi({ config, ...(clock ? { clock } : {}) });
  running.push(api_);
  return api_;
}

async function login(api: RunningApi, token: string): Promise<{ cookie: string; attributes: string[] }> {
  const res = await api.app.inject({ method: 'POST', url: '/v1/session', payload: { token } });
  expect(res.statusCode).toBe(200);
  const [cookie = '', ...attributes] = String(res.headers['set-cookie']).split(/;\s*/);
  return { cookie, attributes };
}

const job = (id: string) => ({ id, task: 'generate', messages: [{ role: 'user', content: 'Hi' }] });

describe('browser sessions', () => {
  it('sets an HttpOnly, SameSite=Strict cookie for the whole site, Secure only when asked', async () => {
    const plain = await start();
    const behindTls = await start({ secureCookies: true });

    const res = await plain.app.inject({ method: 'POST', url: '/v1/session', payload: { token: READ } });
    const secure = await login(behindTls, READ);
    const attributes = String(res.headers['set-cookie']).split(/;\s*/).slice(1);

    expect(res.json()).toMatchObject({ name: 'viewer', scope: 'read' });
    expect(attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=28800']),
    );
    expect(attributes).not.toContain('Secure');
    expect(secure.attributes).toContain('Secure');
  });

  it('logs in from a form too, and refuses a wrong token with 401', async () => {
    const api = await start();

    const form = await api.app.inject({
      method: 'POST',
      url: '/v1/session',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(ENQUEUE)}`,
    });
    const wrong = await api.app.inject({ method: 'POST', url: '/v1/session', payload: { token: 'nope' } });
    const missing = await api.app.inject({ method: 'POST', url: '/v1/session', payload: {} });

    expect(form.statusCode).toBe(200);
    expect(form.json()).toMatchObject({ name: 'ci', scope: 'enqueue' });
    expect(wrong.statusCode).toBe(401);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toBe('body.token: is required');
  });

  it('authenticates GETs with the cookie alone, within the token scope', async () => {
    const api = await start();
    const { cookie } = await login(api, READ);

    const models = await api.app.inject({ method: 'GET', url: '/v1/models', headers: { cookie } });
    const enqueue = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { cookie, 'sec-fetch-site': 'same-origin' },
      payload: job('s-1'),
    });

    expect(models.statusCode).toBe(200);
    expect(enqueue.statusCode).toBe(403);
    expect(enqueue.json().error).toMatch(/"enqueue" scope/);
  });

  it('takes a same-origin POST with the cookie, and refuses a cross-site one', async () => {
    const api = await start();
    const { cookie } = await login(api, ENQUEUE);
    const post = (id: string, h: Record<string, string>) =>
      api.app.inject({ method: 'POST', url: '/v1/jobs', headers: { cookie, ...h }, payload: job(id) });

    const sameOrigin = await post('s-2', { 'sec-fetch-site': 'same-origin' });
    const sameOriginOld = await post('s-3', {
      origin: 'http://api.internal:8080',
      host: 'api.internal:8080',
    });
    const crossSite = await post('s-4', { 'sec-fetch-site': 'cross-site' });
    const sameSite = await post('s-5', { 'sec-fetch-site': 'same-site' });
    const otherOrigin = await post('s-6', { origin: 'https://evil.example' });
    const nullOrigin = await post('s-7', { origin: 'null' });
    const noProof = await post('s-8', {});
    const ids = await Promise.all(
      ['s-4', 's-5', 's-6', 's-7', 's-8'].map(
        async (id) =>
          (
            await api.app.inject({
              method: 'GET',
              url: `/v1/jobs/${id}`,
              headers: { authorization: `Bearer ${READ}` },
            })
          ).statusCode,
      ),
    );

    expect(sameOrigin.statusCode).toBe(202);
    expect(sameOriginOld.statusCode).toBe(202);
    for (const refused of [crossSite, sameSite, otherOrigin, nullOrigin, noProof]) {
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error).toMatch(/^cross-site request refused/);
    }
    expect(ids).toEqual([404, 404, 404, 404, 404]);
  });

  it('does not let another site log the browser in', async () => {
    const api = await start();

    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/session',
      headers: { 'sec-fetch-site': 'cross-site' },
      payload: { token: READ },
    });

    expect(res.statusCode).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('logs out: DELETE clears the cookie', async () => {
    const api = await start();
    const { cookie } = await login(api, READ);

    const out = await api.app.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie } });
    const cleared = String(out.headers['set-cookie']).split(/;\s*/);
    const after = await api.app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { cookie: cleared[0] ?? '' },
    });

    expect(out.statusCode).toBe(204);
    expect(cleared[0]).toBe('bj_session=');
    expect(cleared).toContain('Max-Age=0');
    expect(after.statusCode).toBe(401);
  });

  it('refuses an expired cookie with 401 asking to log in again', async () => {
    const clock = new ManualClock(1_800_000_000 * SECOND);
    const api = await start({ sessionTtlSeconds: HOUR / SECOND }, clock);
    const { cookie } = await login(api, READ);

    clock.advance(HOUR);
    const res = await api.app.inject({ method: 'GET', url: '/v1/models', headers: { cookie } });

    expect(res.statusCode).toBe(401);
    expect(res.json().error).toMatch(/session cookie is invalid or expired/);
  });

  it('is honoured by another API process with the same tokens', async () => {
    const first = await start();
    const second = await start();
    const { cookie } = await login(first, READ);

    const res = await second.app.inject({ method: 'GET', url: '/v1/models', headers: { cookie } });

    expect(res.statusCode).toBe(200);
  });

  it('lets a bearer header win over the cookie, without the cross-site check', async () => {
    const api = await start();
    const { cookie } = await login(api, READ);

    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { cookie, authorization: `Bearer ${ENQUEUE}`, origin: 'https://tool.example' },
      payload: job('s-9'),
    });

    expect(res.statusCode).toBe(202);
  });
});
