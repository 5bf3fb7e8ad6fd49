import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../config.js';
import { CallbackUrlSchema, callbackRefusal, hostAllowed } from './options.js';

describe('CallbackUrlSchema', () => {
  it('takes http and https URLs and refuses other schemes and credentials', () => {
    const ok = (u: string) => CallbackUrlSchema.safeParse(u).success;

    expect(ok('https://hooks.example.com/bedrock?src=jobs')).toBe(true);
    expect(ok('http://127.0.0.1:8081/hook')).toBe(true);
    expect(ok('ftp://example.com/x')).toBe(false);
    expect(ok('file:///etc/passwd')).toBe(false);
    expect(ok('javascript:alert(1)')).toBe(false);
    expect(ok('https://user:pass@example.com/')).toBe(false);
    expect(ok(`https://example.com/${'a'.repeat(2_100)}`)).toBe(false);
  });

  it('refuses text that is no URL at all with its message, instead of throwing', () => {
    for (const text of ['', 'x', 'http://', 'http://a b', '//host/only']) {
      expect(CallbackUrlSchema.safeParse(text).error?.issues.map((i) => i.message)).toEqual([
        'must be an http:// or https:// URL',
      ]);
    }
  });
});

describe('hostAllowed', () => {
  it('allows every host with an empty list, else exact hosts and *. subdomains', () => {
    const list = ['hooks.example.com', '*.example.org'];

    expect(hostAllowed('anything.internal', [])).toBe(true);
    expect(hostAllowed('hooks.example.com', list)).toBe(true);
    expect(hostAllowed('HOOKS.example.com', list)).toBe(true);
    expect(hostAllowed('a.b.example.org', list)).toBe(true);
    expect(hostAllowed('example.org', list)).toBe(false);
    expect(hostAllowed('evilexample.org', list)).toBe(false);
    expect(hostAllowed('hooks.example.com.evil.net', list)).toBe(false);
    expect(hostAllowed('169.254.169.254', list)).toBe(false);
  });
});

describe('callbackRefusal', () => {
  it('needs a secret, then a listed host', () => {
    const none = ConfigSchema.parse({}).callbacks;
    const signed = ConfigSchema.parse({
      callbacks: { secret: 's'.repeat(16), allowedHosts: ['ok.example'] },
    }).callbacks;

    expect(callbackRefusal('https://ok.example/', none)).toMatch(/^needs a signing secret/);
    expect(callbackRefusal('https://ok.example/', signed)).toBeUndefined();
    expect(callbackRefusal('https://other.example/', signed)).toBe(
      'host "other.example" is not in callbacks.allowedHosts',
    );
  });
});
