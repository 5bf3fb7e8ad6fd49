import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { connectRedis, parseRedisUrl, RedisSettingsSchema } from './connect.js';
import { hashTagOf } from './keys.js';

const defaults = RedisSettingsSchema.parse({});

describe('parseRedisUrl', () => {
  it('reads host, port, TLS, the ACL user and password (percent-decoded) and the database', () => {
    expect(parseRedisUrl('rediss://app%40prod:p%2Fw@cache.example.com:6380/3')).toEqual({
      host: 'cache.example.com',
      port: 6380,
      tls: true,
      username: 'app@prod',
      password: 'p/w',
      db: 3,
    });
    expect(parseRedisUrl('redis://[::1]')).toEqual({ host: '::1', port: 6379, tls: false, db: 0 });
  });

  it('refuses what is not a Redis URL without repeating it (it may hold a password)', () => {
    expect(() => parseRedisUrl('http://u:secret@h')).toThrow(
      'must start with redis:// or rediss://, not http://',
    );
    expect(() => parseRedisUrl('u:secret@h')).toThrow(/redis:\/\//);
    expect(() => parseRedisUrl('redis://u:secret@h/x')).not.toThrow(/secret/);
  });
});

describe('connectRedis', () => {
  it('lets the settings override the user and password of the URL, and turns TLS on for rediss://', () => {
    const r = connectRedis(
      'rediss://url-user:url-pass@h:6380',
      { ...defaults, username: 'app', password: 'pw' },
      { probeTimeoutMs: 10 },
    ) as Redis;

    expect(r).toBeInstanceOf(Redis);
    expect(r.options).toMatchObject({ host: 'h', port: 6380, username: 'app', password: 'pw', tls: {} });
    r.disconnect();
  });

  it('makes a Cluster with the same user, password and TLS for every node', () => {
    const c = connectRedis(
      'redis://u:p@cfg.example.com:6379',
      { ...defaults, cluster: true, tls: true },
      {
        probeTimeoutMs: 10,
      },
    );

    expect(c).toBeInstanceOf(Cluster);
    expect((c as Cluster).options.redisOptions).toMatchObject({ username: 'u', password: 'p', tls: {} });
    c.disconnect();
  });

  it('refuses a database number for a Cluster, which has only database 0', () => {
    expect(() => connectRedis('redis://h:6379/2', { ...defaults, cluster: true })).toThrow(/only database 0/);
  });
});

describe('hashTagOf', () => {
  it('is what Redis Cluster hashes: between the first { and the next }, when not empty', () => {
    expect(hashTagOf('{bj}')).toBe('bj');
    expect(hashTagOf('app:{bj}:x')).toBe('bj');
    expect(hashTagOf('bj')).toBeUndefined();
    expect(hashTagOf('{}bj')).toBeUndefined();
    expect(hashTagOf('{bj')).toBeUndefined();
  });
});
