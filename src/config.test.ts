import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, redactedConfig } from './config.js';
import { ConfigError } from './config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'bj-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Redis settings', () => {
  it('adds REDIS_PASSWORD and REDIS_USERNAME to the redis settings of the file instead of replacing them', () => {
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, 'redis:\n  cluster: true\n  tls: true\n');

    const config = loadConfig({ file, env: { REDIS_PASSWORD: 'pw', REDIS_USERNAME: 'app' } });

    expect(config.redis).toEqual({ cluster: true, tls: true, username: 'app', password: 'pw' });
  });

  it('refuses a URL that is not redis:// or rediss://, without repeating it', () => {
    const refused = () => loadConfig({ env: { REDIS_URL: 'http://u:hunter2@cache:6379' } });

    expect(refused).toThrow(ConfigError);
    expect(refused).toThrow(/redisUrl: must start with redis:\/\/ or rediss:\/\//);
    expect(refused).not.toThrow(/hunter2/);
  });

  it('refuses Cluster mode with a prefix that has no hash tag, since multi-key scripts need one slot', () => {
    expect(() => loadConfig({ env: { REDIS_CLUSTER: '1' }, overrides: { prefix: 'bj' } })).toThrow(
      /prefix: "bj" has no \{hash tag\}/,
    );
    expect(loadConfig({ env: { REDIS_CLUSTER: '1' } }).redis.cluster).toBe(true);
  });

  it('refuses a CA file it cannot read, naming the field', () => {
    expect(() => loadConfig({ env: {}, overrides: { redis: { caFile: join(dir, 'missing.pem') } } })).toThrow(
      /redis\.caFile: cannot read .*missing\.pem: ENOENT/,
    );
  });
});

describe('redactedConfig', () => {
  it('hides the API token, the Redis password and the password in the URL', () => {
    const config = loadConfig({
      env: {
        REDIS_URL: 'redis://app:url-secret@cache:6379',
        REDIS_PASSWORD: 'env-secret',
        API_TOKEN: 'tok-0123456789abcdef',
      },
    });

    const shown = JSON.stringify(redactedConfig(config));

    expect(shown).not.toMatch(/url-secret|env-secret|tok-0123456789abcdef/);
    expect(shown).toContain('redis://app:***@cache:6379');
  });
});

describe('API_TOKEN', () => {
  it('refuses a token shorter than 16 characters from the environment or the file, naming both and not the token', () => {
    const fromEnv = () => loadConfig({ env: { API_TOKEN: 'short-secret-15' } });
    const file = join(dir, 'short-token.yaml');
    writeFileSync(file, 'apiToken: short-secret-15\n');
    const fromFile = () => loadConfig({ file, env: {} });

    for (const load of [fromEnv, fromFile]) {
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/apiToken: must be at least 16 characters long \(API_TOKEN\)/);
      expect(load).not.toThrow(/short-secret-15/);
    }
  });

  it('takes a token of exactly 16 characters', () => {
    expect(loadConfig({ env: { API_TOKEN: 'sixteen-chars-ok' } }).apiToken).toBe('sixteen-chars-ok');
  });
});

describe('api.trustProxy', () => {
  it('takes true, false, or addresses and CIDRs, and refuses anything else naming the field', () => {
    const trust = (trustProxy: boolean | string) =>
      loadConfig({ env: {}, overrides: { api: { trustProxy } } });

    expect(trust('10.0.0.0/8, 192.0.2.1, loopback').api.trustProxy).toBe('10.0.0.0/8, 192.0.2.1, loopback');
    expect(trust(true).api.trustProxy).toBe(true);
    expect(() => trust('the load balancer')).toThrow(/api\.trustProxy: must be true, false, or IP addresses/);
    expect(() => trust('')).toThrow(/api\.trustProxy/);
  });
});

describe('callbacks settings', () => {
  it('takes CALLBACK_SECRET from the environment without dropping the file’s other callback settings', () => {
    const file = join(dir, 'callbacks.yaml');
    writeFileSync(file, 'callbacks:\n  attempts: 3\n  allowedHosts: [hooks.example.com]\n');

    const config = loadConfig({ file, env: { CALLBACK_SECRET: 'from-the-environment-0123' } });

    expect(config.callbacks).toMatchObject({
      secret: 'from-the-environment-0123',
      attempts: 3,
      allowedHosts: ['hooks.example.com'],
      timeoutMs: 10_000,
    });
  });

  it('refuses a secret too short to be one, naming the setting', () => {
    expect(() => loadConfig({ env: { CALLBACK_SECRET: 'short' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { CALLBACK_SECRET: 'short' } })).toThrow(
      /callbacks\.secret: must be at least 16 characters/,
    );
  });

  it('never shows the secret in the printed config', () => {
    const config = loadConfig({ env: { CALLBACK_SECRET: 'from-the-environment-0123' } });

    expect(JSON.stringify(redactedConfig(config))).not.toContain('from-the-environment-0123');
    expect(redactedConfig(config).callbacks.secret).toBe('[redacted]');
  });
});
