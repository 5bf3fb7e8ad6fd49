import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface AuthOptions {
  /** The bearer token every route needs; undefined turns authentication off. */
  token: string | undefined;
  /** Route patterns (as registered, e.g. `/healthz`) that answer without a token. */
  publicRoutes: readonly string[];
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Requires the bearer token on every request except those whose matched route is on the
 * allow-list. The check reads the route the router chose (`routeOptions.url`), never the raw
 * URL: the router percent-decodes and normalizes paths, so a test of the raw URL can be walked
 * around with `/%761/jobs`. Requests that match no route need the token too, so nothing about
 * the route table leaks and a route added later is protected by default.
 */
export function requireToken(app: FastifyInstance, options: AuthOptions): void {
  const { token } = options;
  if (token === undefined) return;
  const open = new Set(options.publicRoutes);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const route = req.routeOptions.url;
    if (route !== undefined && open.has(route)) return;
    if (tokenMatches(req.headers.authorization, token)) return;
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'missing or wrong bearer token' });
  });
}
