import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenScope } from '../config.js';
import type { Logger } from '../log.js';
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

function credential(req: FastifyRequest, options: AuthOptions): Credential | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const principal = header.startsWith('Bearer ') ? options.tokens.find(header.slice(7)) : undefined;
    return principal ? { principal, via: 'bearer' } : { refused: WRONG_BEARER };
  }
  const cookie = req.cookies[SESSION_COOKIE];
  if (cookie === undefined) return undefined;
  const principal = options.sessions.verify(cookie);
  return principal
    ? { principal, via: 'cookie' }
    : { refused: 'session cookie is invalid or expired; log in again with POST /v1/session' };
}

/**
 * Authenticates every request by a bearer token (`Authorization: Bearer <token>`) or the
 * session cookie, then checks the token's scope against the matched route's. Wrong or no
 * credentials: 401. A valid token without the scope: 403 naming the scope. A state-changing
 * request authenticated by the cookie must come from this API's own origin (CSRF); the cookie
 * is `SameSite=Strict` as well. Tokens and cookies never reach a log line.
 * Needs `@fastify/cookie` registered first. Without any configured token it checks nothing
 * (the CLI only allows that on loopback).
 */
export function requireScopes(app: FastifyInstance, options: AuthOptions): void {
  if (!options.tokens.enabled) return;
  const log = options.logger?.child({ component: 'api-auth' });
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const needed = neededScope(req);
    if (needed === 'public') return;
    const found = credential(req, options);
    if (found === undefined || 'refused' in found) {
      log?.debug({ method: req.method, route: req.routeOptions.url }, 'unauthenticated request refused');
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: found?.refused ?? WRONG_BEARER });
    }
    const { principal, via } = found;
    if (via === 'cookie' && STATE_CHANGING.has(req.method) && crossSite(req, true)) {
      log?.warn(
        { method: req.method, route: req.routeOptions.url, tokenName: principal.name },
        'cross-site request refused',
      );
      return reply.code(403).send({
        error:
          'cross-site request refused: a change made with the session cookie must come from a page of this API (Origin or Sec-Fetch-Site); other clients send the bearer token',
      });
    }
    if (!scopeAllows(principal.scope, needed)) {
      log?.info(
        { method: req.method, route: req.routeOptions.url, tokenName: principal.name },
        'scope too narrow',
      );
      return reply.code(403).send({
        error: `this route needs a token with the "${needed}" scope; token "${principal.name}" has "${principal.scope}"`,
      });
    }
  });
}
