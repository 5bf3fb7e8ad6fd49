import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../clock.js';
import { TOKEN_SCOPES } from '../config-api.js';
import { SECOND } from '../units.js';
import type { Principal, TokenTable } from './tokens.js';

/** The cookie a browser session lives in. */
export const SESSION_COOKIE = 'bj_session';

const Payload = z.strictObject({
  /** Name of the token that logged in. */
  n: z.string().min(1),
  /** Its scope at login. */
  s: z.enum(TOKEN_SCOPES),
  /** Expiry, seconds since the epoch. */
  e: z.number().int().positive(),
});

const SIGNATURE_BYTES = 32;

/**
 * Signed, stateless browser sessions: `<payload>.<signature>`, both base64url, the payload
 * `{ n: token name, s: scope, e: expiry }`, signed with HMAC-SHA256.
 *
 * The key is derived from the token that logged in (HMAC of a fixed label under that token),
 * not drawn at random per process, so a session
 * - survives a restart of the API and works on every replica configured with the same tokens,
 *   with no shared store;
 * - ends when its token is removed or changed (rotation logs its sessions out) or its scope
 *   changes, and never outlives `api.sessionTtlSeconds`.
 * A cookie reveals neither the token nor the key (HMAC is one-way). Logging out clears the
 * browser's cookie; a copied cookie stays valid until it expires or its token is rotated.
 */
export class Sessions {
  constructor(
    private readonly tokens: TokenTable,
    private readonly options: { ttlSeconds: number; clock?: Clock },
  ) {}

  /** A cookie value for `principal`, and when it expires. */
  issue(principal: Principal): { value: string; expiresAt: Date; maxAgeSeconds: number } {
    const now = this.now();
    const e = Math.floor(now / SECOND) + this.options.ttlSeconds;
    const payload = Buffer.from(JSON.stringify({ n: principal.name, s: principal.scope, e })).toString(
      'base64url',
    );
    const signature = this.sign(principal.name, payload);
    if (!signature) throw new Error(`no token named ${principal.name}`);
    return {
      value: `${payload}.${signature.toString('base64url')}`,
      expiresAt: new Date(e * SECOND),
      maxAgeSeconds: this.options.ttlSeconds,
    };
  }

  /** The principal of a valid, unexpired session cookie; undefined for anything else. */
  verify(value: string): Principal | undefined {
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    let data: z.infer<typeof Payload>;
    try {
      const parsed = Payload.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
      if (!parsed.success) return undefined;
      data = parsed.data;
    } catch {
      return undefined;
    }
    const expected = this.sign(data.n, payload);
    if (!expected || given.length !== SIGNATURE_BYTES || !timingSafeEqual(given, expected)) return undefined;
    if (data.e * SECOND <= this.now()) return undefined;
    // A token whose scope changed since login no longer vouches for the session.
    if (this.tokens.secretOf(data.n)?.scope !== data.s) return undefined;
    return { name: data.n, scope: data.s };
  }

  private sign(name: string, payload: string): Buffer | undefined {
    const secret = this.tokens.secretOf(name);
    if (!secret) return undefined;
    const key = createHmac('sha256', secret.token).update('bedrock-jobs session v1').digest();
    return createHmac('sha256', key).update(payload).digest();
  }

  private now(): number {
    return (this.options.clock ?? systemClock).now();
  }
}
