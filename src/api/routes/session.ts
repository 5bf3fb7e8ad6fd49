import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TOKEN_SCOPES } from '../../config-api.js';
import { crossSite, refuseLockedOut } from '../auth.js';
import type { FailedAuthLimit } from '../auth-limit.js';
import { ErrorSchema } from '../schemas.js';
import { SESSION_COOKIE, type Sessions } from '../session.js';
import type { TokenTable } from '../tokens.js';
import type { ApiContext } from './context.js';

const LoginBody = z.strictObject({ token: z.string().min(1).describe('an API token') });

const SessionSchema = z.object({
  name: z.string().describe('the name of the token that logged in'),
  scope: z.enum(TOKEN_SCOPES),
  expiresAt: z.iso.datetime(),
});

/**
 * `POST /v1/session` logs a browser in: a valid token (JSON or form body) gets a signed
 * session cookie (`HttpOnly; SameSite=Strict; Path=/`, `Secure` over HTTPS or with
 * `api.secureCookies`) that authenticates later requests as the bearer header does.
 * `DELETE /v1/session` clears it. Both are open routes. A wrong token counts against the
 * client in the failed-authentication limit, and a client locked out by it gets 429 for every
 * login until its window passes, a right token included.
 */
export function sessionRoutes(
  app: FastifyInstance,
  ctx: ApiContext & { tokens: TokenTable; sessions: Sessions; limit: FailedAuthLimit },
): void {
  const secure = (protocol: string) => ctx.config.api.secureCookies || protocol === 'https';
  app.post(
    '/v1/session',
    {
      config: { scope: 'public' },
      schema: {
        summary: 'Log a browser in: trade a token for a session cookie',
        body: {
          content: {
            'application/json': { schema: LoginBody },
            'application/x-www-form-urlencoded': { schema: LoginBody },
          },
        },
        response: {
          200: SessionSchema,
          400: ErrorSchema,
          401: ErrorSchema,
          403: ErrorSchema,
          429: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      if (!ctx.tokens.enabled) {
        return reply.code(400).send({
          error: 'authentication is off: no API token is configured, so there is no session to open',
        });
      }
      const locked = ctx.limit.check(req.ip);
      if (locked.locked) return refuseLockedOut(reply, locked);
      // A page of another site must not log the browser in (into a session of its choosing).
      if (crossSite(req, false)) return reply.code(403).send({ error: 'cross-site login refused' });
      const body = LoginBody.safeParse(req.body);
      if (!body.success) {
        const issue = body.error.issues[0];
        const where =
          issue?.code === 'unrecognized_keys' ? `body.${issue.keys.join(', body.')}` : 'body.token';
        const what =
          issue?.code === 'unrecognized_keys' ? 'is not a field of a login (expected token)' : 'is required';
        return reply.code(400).send({ error: `${where}: ${what}` });
      }
      const principal = ctx.tokens.find(body.data.token);
      if (!principal) {
        const verdict = await ctx.limit.failed(req.ip);
        if (verdict.locked) return refuseLockedOut(reply, verdict);
        return reply.code(401).send({ error: 'wrong token' });
      }
      const session = ctx.sessions.issue(principal);
      return reply
        .setCookie(SESSION_COOKIE, session.value, {
          httpOnly: true,
          sameSite: 'strict',
          path: '/',
          secure: secure(req.protocol),
          maxAge: session.maxAgeSeconds,
        })
        .send({ name: principal.name, scope: principal.scope, expiresAt: session.expiresAt.toISOString() });
    },
  );
  app.delete(
    '/v1/session',
    {
      config: { scope: 'public' },
      schema: { summary: 'Log a browser out: clear the session cookie', response: { 204: z.null() } },
    },
    async (req, reply) =>
      reply
        .clearCookie(SESSION_COOKIE, {
          httpOnly: true,
          sameSite: 'strict',
          path: '/',
          secure: secure(req.protocol),
        })
        .code(204)
        .send(),
  );
}
