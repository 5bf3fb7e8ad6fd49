import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.js';
import { API_TOKEN_NAME, type TokenScope } from '../config-api.js';

/** Who a request speaks for: the token's name (safe to log) and what it may do. */
export interface Principal {
  name: string;
  scope: TokenScope;
}

const RANK: Readonly<Record<TokenScope, number>> = { read: 1, enqueue: 2, admin: 3 };

/** Whether a token of scope `granted` may use a route that needs `needed`. */
export function scopeAllows(granted: TokenScope, needed: TokenScope): boolean {
  return RANK[granted] >= RANK[needed];
}

/** Whether the config names any API token (`API_TOKEN`, `API_TOKENS` or `api.tokens`). */
export function hasApiTokens(config: Pick<Config, 'apiToken' | 'api'>): boolean {
  return config.apiToken !== undefined || config.api.tokens.length > 0;
}

interface Entry extends Principal {
  digest: Buffer;
  token: string;
}

/**
 * The API's tokens: `apiToken` (`API_TOKEN`, named {@link API_TOKEN_NAME}, admin) and `api.tokens`
 * (`API_TOKENS`). Looking a token up costs the same whichever token matches, or none: the
 * presented token and every configured one are HMAC'd under a per-process key to digests of
 * one length, and every digest is compared (no early exit), so neither the length nor the
 * prefix of a token can be learned from response times.
 */
export class TokenTable {
  private readonly key = randomBytes(32);
  private readonly entries: readonly Entry[];

  constructor(config: Pick<Config, 'apiToken' | 'api'>) {
    const all = [
      ...(config.apiToken ? [{ name: API_TOKEN_NAME, scope: 'admin' as const, token: config.apiToken }] : []),
      ...config.api.tokens,
    ];
    this.entries = all.map((t) => ({
      name: t.name,
      scope: t.scope,
      token: t.token,
      digest: this.digest(t.token),
    }));
  }

  /** Whether any token is configured; without one the API runs unauthenticated (loopback only). */
  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** The configured tokens' names and scopes (never the tokens). */
  principals(): Principal[] {
    return this.entries.map(({ name, scope }) => ({ name, scope }));
  }

  /** The principal a presented token stands for, or undefined for a wrong token. */
  find(presented: string): Principal | undefined {
    const digest = this.digest(presented);
    let found: Entry | undefined;
    for (const entry of this.entries) {
      // timingSafeEqual runs for every entry; the first match is kept.
      if (timingSafeEqual(digest, entry.digest) && found === undefined) found = entry;
    }
    return found && { name: found.name, scope: found.scope };
  }

  /** The token of a name, for keys derived from it (sessions); never for logs or answers. */
  secretOf(name: string): { token: string; scope: TokenScope } | undefined {
    const entry = this.entries.find((e) => e.name === name);
    return entry && { token: entry.token, scope: entry.scope };
  }

  private digest(token: string): Buffer {
    return createHmac('sha256', this.key).update(token, 'utf8').digest();
  }
}
