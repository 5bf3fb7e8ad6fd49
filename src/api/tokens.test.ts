import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { ConfigError } from '../config-error.js';
import { scopeAllows, TokenTable } from './tokens.js';

const READ = 'read-token-0123456789';
const ENQUEUE = 'enqueue-token-0123456789';

function config(env: Record<string, string>, file?: string) {
  return loadConfig({ env, ...(file ? { file } : {}) });
}

describe('API_TOKENS', () => {
  it('reads name:scope:token entries, a token keeping its colons', () => {
    const c = config({ API_TOKENS: `viewer:read:${READ}, ci:enqueue:${ENQUEUE}:with:colons` });

    expect(c.api.tokens).toEqual([
      { name: 'viewer', scope: 'read', token: READ },
      { name: 'ci', scope: 'enqueue', token: `${ENQUEUE}:with:colons` },
    ]);
  });

  it('reads a JSON list as well', () => {
    const c = config({ API_TOKENS: JSON.stringify([{ name: 'ops', scope: 'admin', token: READ }]) });

    expect(c.api.tokens).toEqual([{ name: 'ops', scope: 'admin', token: READ }]);
  });

  it('replaces the file tokens and keeps the file other api settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bj-tokens-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `api:\n  publicDocs: true\n  tokens:\n    - { name: old, scope: admin, token: ${ENQUEUE} }\n`,
    );

    const c = config({ API_TOKENS: `viewer:read:${READ}` }, file);
    rmSync(dir, { recursive: true });

    expect(c.api.publicDocs).toBe(true);
    expect(c.api.tokens).toEqual([{ name: 'viewer', scope: 'read', token: READ }]);
  });

  it.each([
    [`viewer-${READ}`, /API_TOKENS: entry 1 must be name:scope:token/],
    [`viewer:write:${READ}`, /api\.tokens\.0\.scope: .*"read"/],
    ['viewer:read:short', /api\.tokens\.0\.token: must be at least 16 characters long/],
    [`a:read:${READ},a:admin:${ENQUEUE}`, /api\.tokens\.1\.name: "a" is used twice/],
    [`a:read:${READ},b:admin:${READ}`, /api\.tokens\.1\.token: is the same as tokens\[0\]'s/],
    [`default:read:${READ}`, /api\.tokens\.0\.name: "default" names API_TOKEN/],
    ['[{"name":', /API_TOKENS: is not valid JSON/],
  ])('refuses %s, naming the entry or field', (value, message) => {
    expect(() => config({ API_TOKENS: value })).toThrow(ConfigError);
    expect(() => config({ API_TOKENS: value })).toThrow(message);
  });

  it('never repeats a refused token in the message', () => {
    const secret = 's3cret-but-has space';

    expect(() => config({ API_TOKENS: `viewer:read:${secret}` })).toThrow(/printable ASCII/);
    expect(() => config({ API_TOKENS: `viewer:read:${secret}` })).not.toThrow(new RegExp(secret));
  });
});

describe('TokenTable', () => {
  const table = new TokenTable(
    loadConfig({
      env: {},
      overrides: {
        apiToken: 'the-admin-token-0123',
        api: { tokens: [{ name: 'viewer', scope: 'read', token: READ }] },
      },
    }),
  );

  it('finds each token by its value: API_TOKEN as admin "default", scoped ones by name', () => {
    expect(table.find('the-admin-token-0123')).toEqual({ name: 'default', scope: 'admin' });
    expect(table.find(READ)).toEqual({ name: 'viewer', scope: 'read' });
  });

  it('finds nothing for a wrong token, a prefix of one, or one with a byte more', () => {
    expect(table.find('wrong')).toBeUndefined();
    expect(table.find(READ.slice(0, -1))).toBeUndefined();
    expect(table.find(`${READ}x`)).toBeUndefined();
    expect(table.find('')).toBeUndefined();
  });

  it('is off when no token is configured', () => {
    expect(new TokenTable(loadConfig({ env: {} })).enabled).toBe(false);
    expect(table.enabled).toBe(true);
  });

  it('orders scopes read < enqueue < admin', () => {
    expect(scopeAllows('read', 'read')).toBe(true);
    expect(scopeAllows('read', 'enqueue')).toBe(false);
    expect(scopeAllows('enqueue', 'read')).toBe(true);
    expect(scopeAllows('enqueue', 'admin')).toBe(false);
    expect(scopeAllows('admin', 'enqueue')).toBe(true);
  });
});
