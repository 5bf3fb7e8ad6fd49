import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenScope } from '../config-api.js';
import type { Logger } from '../log.js';
import type { AuthVerdict, FailedAuthLimit } from './auth-limit.js';
import { SESSION_COOKIE, type Sessions } from './session.js';
import { type Principal, scopeAllows, type TokenTable } from './tokens.js';

/**
 * What a route needs, declared in its options (`config: { scope: 'read' }`): a token scope, or
 * `public` for the few routes that answer anyone (`/healthz`, logging in).
 */
export type RouteScope = TokenScope | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; a route that declares nothing needs `admin`. */
    scope?: RouteScope;
  }
}

/** What the authentication hook checks requests against. */
export interface AuthOptions {
  tokens: TokenTable;
  sessions: Sessions;
  /** Counts wrong bearer tokens per client and locks out those with too many; none: no limit. */
  limit?: FailedAuthLimit;
  logger?: Logger;
}

type Credential = { principal: Principal; via: 'bearer' | 'cookie' } | { refused: string };

const WRONG_BEARER = 'missing or wrong bearer token';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * What a request needs. The route the router matched decides (`routeOptions`), never the raw
 * URL: the router percent-decodes and normalizes paths, so a test of the raw URL could be
 * walked around with `/%761/jobs`. A route that declares no scope needs `admin`, so a route
 * added later is closed until it says otherwise. A request that matches no route needs any
 * valid token: it reaches nothing, and without a token the route table does not leak.
 */
export function neededScope(req: FastifyRequest): RouteScope {
  if (req.is404) return 'read';
  return req.routeOptions.config.scope ?? 'admin';
}

/**
 * Gives every route registered from now on under `prefix` (itself included) that declares no
 * scope the one `scopeOf` picks by method: for routes a plugin registers, whose options we do
 * not write (the docs pages, bull-board under `/ui/queues`).
 */
export function scopeRoutesUnder(
  app: FastifyInstance,
  prefix: string,
  scopeOf: (method: string) => RouteScope,
): void {
  app.addHook('onRoute', (route) => {
    if (route.url !== prefix && !route.url.startsWith(`${prefix}/`)) return;
    if (route.config?.scope !== undefined) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    // One scope per route: a route answering several methods takes the widest they need.
    const scopes = methods.map((m) => scopeOf(m));
    const scope =
      (['admin', 'enqueue', 'read', 'public'] as const).find((s) => scopes.includes(s)) ?? 'admin';
    route.config = { ...route.config, scope };
  });
}

/**
 * Whether the browser says the request comes from another site. Browsers send
 * `Sec-Fetch-Site` (current ones) or `Origin` (on every POST) on the requests a page makes;
 * a request with neither did not come from a page, so it counts as cross-site only when
 * `strict` (requests authenticated by a cookie must prove where they come from).
 */
export function crossSite(req: FastifyRequest, strict: boolean): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined) return strict;
  try {
    return normalHost(new URL(origin).host) !== normalHost(req.host);
  } catch {
    // `Origin: null` (sandboxed frames, redirects across sites) and garbage.
    return true;
  }
}

/** A host as `URL` writes it: lower case, no default port (browsers leave it out of `Origin`). */
function normalHost(host: string): string {
  return host.toLowerCase().replace(/:(80|443)$/, '');
}

/**
 * What a request presents: a bearer header (`tokens` decides), else the session cookie.
 * `cookies` are the parsed cookies (the cookie plugin's, or parsed for a request that never
 * reached its hook). A header that is not `Bearer …` is a wrong token, never a missing one.
 */
function credential(
  header: string | undefined,
  cookies: Readonly<Record<string, string | undefined>>,
  options: AuthOptions,
): Credential | undefined {
  if (header !== undefined) {
    const principal = header.startsWith('Bearer ') ? options.tokens.find(header.slice(7)) : undefined;
    return principal ? { principal, via: 'bearer' } : { refused: WRONG_BEARER };
  }
  const cookie = cookies[SESSION_COOKIE];
  if (cookie === undefined) return undefined;
  const principal = options.sessions.verify(cookie);
  return principal
    ? { principal, via: 'cookie' }
    : { refused: 'session cookie is invalid or expired; log in again with POST /v1/session' };
}

/**
 * Answers 429 for a client locked out by the failed-authentication limit: `Retry-After` in
 * seconds, and the error says how long in words.
 */
export function refuseLockedOut(reply: FastifyReply, verdict: AuthVerdict & { locked: true }): FastifyReply {
  return reply
    .code(429)
    .header('retry-after', String(verdict.retryAfterSeconds))
    .send({
      error: `too many failed authentications from this address: try again in ${verdict.retryAfterSeconds} s`,
    });
}

/** Who sent a request, for one Fastify refused before its hooks: parsed cookies and address. */
export interface Sender {
  cookies: Readonly<Record<string, string | undefined>>;
  ip: string;
}

/**
 * Checks one request against the scope it needs; answers it (and resolves true) when it is
 * refused, leaves it alone (false) when it may go on. `from` defaults to the cookie plugin's
 * cookies and `req.ip`.
 */
export type Door = (
  req: FastifyRequest,
  reply: FastifyReply,
  needed: RouteScope,
  from?: Sender,
) => Promise<boolean>;

/**
 * Authenticates every request by a bearer token (`Authorization: Bearer <token>`) or the
 * session cookie, then checks the token's scope against the matched route's. Wrong or no
 * credentials: 401. A valid token without the scope: 403 naming the scope. A state-changing
 * request authenticated by the cookie must come from this API's own origin (CSRF); the cookie
 * is `SameSite=Strict` as well. Tokens and cookies never reach a log line.
 *
 * A wrong bearer token counts against its client in `options.limit`; a client locked out gets
 * 429 for every bearer request, before its token is even compared, until its window passes.
 * Cookies are not counted: a signed cookie cannot be guessed, and a browser whose session
 * expired keeps sending its old one.
 *
 * Needs `@fastify/cookie` registered first. Without any configured token it checks nothing
 * (the CLI only allows that on loopback). Returns the check itself, for requests that never
 * reach the hook (a path the router refused).
 */
export function requireScopes(app: FastifyInstance, options: AuthOptions): Door {
  if (!options.tokens.enabled) return async () => false;
  const log = options.logger?.child({ component: 'api-auth' });
  const door: Door = async (req, reply, needed, from) => {
    if (needed === 'public') return false;
    const { cookies, ip } = from ?? { cookies: req.cookies, ip: req.ip };
    const header = req.headers.authorization;
    if (header !== undefined && options.limit) {
      const verdict = options.limit.check(ip);
      if (verdict.locked) {
        refuseLockedOut(reply, verdict);
        return true;
      }
    }
    const found = credential(header, cookies, options);
    if (found === undefined || 'refused' in found) {
      if (header !== undefined && options.limit) {
        const verdict = await options.limit.failed(ip);
        if (verdict.locked) {
          refuseLockedOut(reply, verdict);
          return true;
        }
      }
      log?.debug({ method: req.method, route: req.routeOptions.url }, 'unauthenticated request refused');
      reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: found?.refused ?? WRONG_BEARER });
      return true;
    }
    const { principal, via } = found;
    if (via === 'cookie' && STATE_CHANGING.has(req.method) && crossSite(req, true)) {
      log?.warn(
        { method: req.method, route: req.routeOptions.url, tokenName: principal.name },
        'cross-site request refused',
      );
      reply.code(403).send({
        error:
          'cross-site request refused: a change made with the session cookie must come from a page of this API (Origin or Sec-Fetch-Site); other clients send the bearer token',
      });
      return true;
    }
    if (!scopeAllows(principal.scope, needed)) {
      log?.info(
        { method: req.method, route: req.routeOptions.url, tokenName: principal.name },
        'scope too narrow',
      );
      reply.code(403).send({
        error: `this route needs a token with the "${needed}" scope; token "${principal.name}" has "${principal.scope}"`,
      });
      return true;
    }
    return false;
  };
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (await door(req, reply, neededScope(req))) return reply;
  });
  return door;
}
