import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi, type RunningApi } from '../../src/api/server.js';
import { ManualClock } from '../../src/clock.js';
import { type ConfigInput, loadConfig } from '../../src/config.js';
import { SECOND } from '../../src/units.js';
import { logSink } from '../helpers/log-sink.js';
import { useRedis } from '../helpers/redis.js';
import { startOwnRedis } from '../helpers/redis-server.js';

const ctx = useRedis();
let running: RunningApi[] = [];

afterEach(async () => {
  for (const api of running) await api.close();
  running = [];
});

const TOKEN = 'limit-admin-token-0123456789';
const WRONG = 'wrong-guess-token-0123456789';
const LIMIT = 3;
const WINDOW_S = 60;

async function start(
  options: {
    api?: NonNullable<ConfigInput['api']>;
    clock?: ManualClock;
    logger?: ReturnType<typeof logSink>;
  } = {},
): Promise<RunningApi> {
  const config = loadConfig({
    env: {},
    overrides: {
      redisUrl: ctx.url,
      prefix: ctx.prefix,
      apiToken: TOKEN,
      api: { failedAuthLimit: LIMIT, failedAuthWindowSeconds: WINDOW_S, ...options.api },
    },
  });
  const api = await buildApi({
    config,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger.logger } : {}),
  });
  running.push(api);
  return api;
}

/** A GET of a protected route with `token`, from `ip`. */
function get(token: string, ip = '198.51.100.7', url = '/v1/models'): InjectOptions {
  return { method: 'GET', url, headers: { authorization: `Bearer ${token}` }, remoteAddress: ip };
}

async function statuses(api: RunningApi, requests: InjectOptions[]): Promise<number[]> {
  const out: number[] = [];
  for (const r of requests) out.push((await api.app.inject(r)).statusCode);
  return out;
}

describe('the failed-authentication limit', () => {
  it('answers 401 to the first wrong tokens, then 429 with Retry-After to everything the client sends, its right token included, until the window passes', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const api = await start({ clock });

    const wrong = await statuses(
      api,
      Array.from({ length: LIMIT }, () => get(WRONG)),
    );
    const locked = await api.app.inject(get(WRONG));
    const rightWhileLocked = await api.app.inject(get(TOKEN));
    const otherClient = await api.app.inject(get(TOKEN, '198.51.100.8'));
    clock.advance(WINDOW_S * SECOND - 10 * SECOND);
    const stillLocked = await api.app.inject(get(TOKEN));
    clock.advance(10 * SECOND);
    const afterWindow = await statuses(api, [get(TOKEN), get(WRONG)]);

    expect(wrong).toEqual([401, 401, 401]);
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBe(String(WINDOW_S));
    expect(locked.json()).toEqual({
      error: `too many failed authentications from this address: try again in ${WINDOW_S} s`,
    });
    expect(rightWhileLocked.statusCode).toBe(429);
    expect(otherClient.statusCode).toBe(200);
    expect(stillLocked.statusCode).toBe(429);
    expect(stillLocked.headers['retry-after']).toBe('10');
    expect(afterWindow).toEqual([200, 401]);
  });

  it('never counts successful requests, nor requests without a token or with a stale session cookie', async () => {
    const api = await start();

    const ok = await statuses(
      api,
      Array.from({ length: 20 }, () => get(TOKEN)),
    );
    const none = await statuses(
      api,
      Array.from({ length: 10 }, () => ({
        method: 'GET' as const,
        url: '/v1/models',
        remoteAddress: '198.51.100.7',
      })),
    );
    const staleCookie = await statuses(
      api,
      Array.from({ length: 10 }, () => ({
        method: 'GET' as const,
        url: '/v1/models',
        cookies: { bj_session: 'e30.forged' },
        remoteAddress: '198.51.100.7',
      })),
    );
    const wrong = await statuses(
      api,
      Array.from({ length: LIMIT }, () => get(WRONG)),
    );

    expect(new Set(ok)).toEqual(new Set([200]));
    expect(new Set([...none, ...staleCookie])).toEqual(new Set([401]));
    expect(wrong).toEqual([401, 401, 401]);
  });

  it('counts a window from the first failure, so failures spread over less than a window add up', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const api = await start({ clock });

    await statuses(api, [get(WRONG)]);
    clock.advance(WINDOW_S * SECOND - 1);
    const late = await statuses(api, [get(WRONG), get(WRONG), get(WRONG)]);
    const lockedFor = (await api.app.inject(get(TOKEN))).headers['retry-after'];
    clock.advance(1);
    const nextWindow = await statuses(api, [get(WRONG), get(TOKEN)]);

    expect(late).toEqual([401, 401, 429]);
    expect(lockedFor).toBe('1');
    expect(nextWindow).toEqual([401, 200]);
  });

  it('limits logins the same way, and logs the lockout once with the address and never the token', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const sink = logSink({ level: 'debug' });
    const api = await start({ clock, logger: sink });
    const login = (token: string): InjectOptions => ({
      method: 'POST',
      url: '/v1/session',
      payload: { token },
      remoteAddress: '203.0.113.9',
    });

    const answers = await statuses(api, [
      login(WRONG),
      login(WRONG),
      login(WRONG),
      login(WRONG),
      login(TOKEN),
    ]);
    const bearerToo = await api.app.inject(get(TOKEN, '203.0.113.9'));
    clock.advance(WINDOW_S * SECOND);
    const after = await api.app.inject(login(TOKEN));

    expect(answers).toEqual([401, 401, 401, 429, 429]);
    expect(bearerToo.statusCode).toBe(429);
    expect(after.statusCode).toBe(200);
    const lockouts = sink
      .entries()
      .filter((e) => e.msg === 'client locked out after too many failed authentications');
    expect(lockouts).toEqual([
      expect.objectContaining({
        level: 40, // warn,
        ip: '203.0.113.9',
        failures: LIMIT,
        retryAfterSeconds: WINDOW_S,
      }),
    ]);
    expect(sink.lines.join('\n')).not.toContain(WRONG);
    expect(sink.lines.join('\n')).not.toContain(TOKEN);
  });

  it('shares the count between API processes: each learns of a lockout at its next failure there', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const one = await start({ clock });
    const two = await start({ clock });

    const first = await statuses(one, [get(WRONG), get(WRONG)]);
    const second = await statuses(two, [get(WRONG), get(WRONG), get(TOKEN)]);
    const backOnOne = await statuses(one, [get(TOKEN)]);

    expect(first).toEqual([401, 401]);
    // The third failure of the fleet reaches the limit on `two`, which then refuses everything.
    expect(second).toEqual([401, 429, 429]);
    // `one` counted no failure past the limit yet, so its next right token still goes through.
    expect(backOnOne).toEqual([200]);
  });

  it('counts an IPv6 client by its /64, and an IPv4-mapped one as IPv4', async () => {
    const api = await start();

    const v6 = await statuses(api, [
      get(WRONG, '2001:db8:1:2::1'),
      get(WRONG, '2001:db8:1:2:ffff::9'),
      get(WRONG, '2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd'),
      get(TOKEN, '2001:db8:1:2::42'),
      get(TOKEN, '2001:db8:1:3::1'),
    ]);
    const v4 = await statuses(api, [
      get(WRONG, '192.0.2.1'),
      get(WRONG, '::ffff:192.0.2.1'),
      get(WRONG, '192.0.2.1'),
      get(TOKEN, '::ffff:192.0.2.1'),
    ]);

    expect(v6).toEqual([401, 401, 401, 429, 200]);
    expect(v4).toEqual([401, 401, 401, 429]);
  });

  it('counts failures by X-Forwarded-For only when the peer is a trusted proxy', async () => {
    const behindProxy = await start({ api: { trustProxy: '10.0.0.0/8' } });
    const direct = await start();
    const via = (ip: string, token: string, peer = '10.1.2.3'): InjectOptions => ({
      ...get(token, peer),
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip },
    });

    const proxied = await statuses(behindProxy, [
      via('198.51.100.1', WRONG),
      via('198.51.100.1', WRONG),
      via('198.51.100.1', WRONG),
      via('198.51.100.1', TOKEN),
      via('198.51.100.2', TOKEN),
    ]);
    // A client that claims addresses without a trusted proxy is counted by its own.
    const spoofed = await statuses(direct, [
      via('198.51.100.3', WRONG, '192.0.2.50'),
      via('198.51.100.4', WRONG, '192.0.2.50'),
      via('198.51.100.5', WRONG, '192.0.2.50'),
      via('198.51.100.6', TOKEN, '192.0.2.50'),
    ]);

    expect(proxied).toEqual([401, 401, 401, 429, 200]);
    expect(spoofed).toEqual([401, 401, 401, 429]);
  });

  it('counts wrong tokens sent with a path the router refuses, so no guess goes around the limit', async () => {
    const api = await start({ api: { trustProxy: '10.0.0.0/8' } });
    const long = `/v1/batches/${'b'.repeat(800)}`;
    const viaProxy = (url: string, token: string): InjectOptions => ({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '198.51.100.77' },
      remoteAddress: '10.9.9.9',
    });

    const answers = await statuses(api, [
      viaProxy(long, WRONG),
      viaProxy('/v1/jobs/%ED%A0%80', WRONG),
      viaProxy(long, WRONG),
      viaProxy(long, TOKEN),
      viaProxy('/v1/models', TOKEN),
    ]);
    const otherClient = await api.app.inject({
      ...viaProxy(long, TOKEN),
      headers: { authorization: `Bearer ${TOKEN}` },
    });

    expect(answers).toEqual([401, 401, 401, 429, 429]);
    // The proxy itself is not locked out: the client behind it is.
    expect(otherClient.statusCode).toBe(400);
  });

  it('answers 401 and leaves the failure uncounted when Redis does not answer, rather than locking anyone out', async () => {
    const own = await startOwnRedis();
    const sink = logSink();
    try {
      const api = await buildApi({
        config: loadConfig({
          env: {},
          overrides: { redisUrl: own.url, prefix: ctx.prefix, apiToken: TOKEN, api: { failedAuthLimit: 1 } },
        }),
        logger: sink.logger,
      });
      running.push(api);
      await own.kill();

      const answers = await statuses(api, [get(WRONG), get(WRONG)]);

      expect(answers).toEqual([401, 401]);
      expect(sink.entries()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ msg: 'could not count a failed authentication; not limiting it' }),
        ]),
      );
    } finally {
      await own.close();
    }
  });

  it('limits nothing with api.failedAuthLimit 0', async () => {
    const api = await start({ api: { failedAuthLimit: 0 } });

    const answers = await statuses(
      api,
      Array.from({ length: 15 }, () => get(WRONG)),
    );

    expect(new Set(answers)).toEqual(new Set([401]));
  });
});

describe('the failed-authentication limit over a real socket', () => {
  it('locks out a client that guesses over HTTP, with Retry-After, while another connection of it with the right token is refused too', async () => {
    const api = await start();
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const send = (token: string) =>
      fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${token}` } });

    const guesses: number[] = [];
    for (let i = 0; i < LIMIT; i++) guesses.push((await send(WRONG)).status);
    const locked = await send(WRONG);
    const right = await send(TOKEN);
    const login = await fetch(`${base}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    const health = await fetch(`${base}/healthz`);

    expect(guesses).toEqual([401, 401, 401]);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(WINDOW_S);
    expect(await locked.json()).toEqual({ error: expect.stringMatching(/^too many failed authentications/) });
    expect(right.status).toBe(429);
    expect(login.status).toBe(429);
    // Open routes stay open.
    expect(health.status).toBe(200);
  });
});
