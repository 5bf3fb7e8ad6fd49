import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { type ConfigInput, loadConfig } from '../config.js';
import { HOUR, SECOND } from '../units.js';
import { Sessions } from './session.js';
import { TokenTable } from './tokens.js';

const READ = 'read-token-0123456789';
const TTL_SECONDS = 3_600;

function sessions(tokens: NonNullable<NonNullable<ConfigInput['api']>['tokens']>, clock: ManualClock) {
  const table = new TokenTable(loadConfig({ env: {}, overrides: { api: { tokens } } }));
  return new Sessions(table, { ttlSeconds: TTL_SECONDS, clock });
}

describe('Sessions', () => {
  const viewer = [{ name: 'viewer', scope: 'read' as const, token: READ }];

  it('accepts its own cookie until it expires', () => {
    const clock = new ManualClock(1_800_000_000 * SECOND);
    const s = sessions(viewer, clock);
    const { value, expiresAt } = s.issue({ name: 'viewer', scope: 'read' });

    const fresh = s.verify(value);
    clock.advance(HOUR - SECOND);
    const late = s.verify(value);
    clock.advance(SECOND);
    const expired = s.verify(value);

    expect(fresh).toEqual({ name: 'viewer', scope: 'read' });
    expect(late).toEqual({ name: 'viewer', scope: 'read' });
    expect(expired).toBeUndefined();
    expect(expiresAt.getTime()).toBe(1_800_000_000 * SECOND + HOUR);
  });

  it('is accepted by another process with the same tokens (a restart, a replica)', () => {
    const clock = new ManualClock(1_800_000_000 * SECOND);
    const { value } = sessions(viewer, clock).issue({ name: 'viewer', scope: 'read' });

    expect(sessions(viewer, clock).verify(value)).toEqual({ name: 'viewer', scope: 'read' });
  });

  it('ends when its token is rotated, removed or given another scope', () => {
    const clock = new ManualClock(1_800_000_000 * SECOND);
    const { value } = sessions(viewer, clock).issue({ name: 'viewer', scope: 'read' });

    const rotated = sessions([{ name: 'viewer', scope: 'read', token: `${READ}-new` }], clock).verify(value);
    const removed = sessions([{ name: 'other', scope: 'read', token: READ }], clock).verify(value);
    const rescoped = sessions([{ name: 'viewer', scope: 'admin', token: READ }], clock).verify(value);

    expect(rotated).toBeUndefined();
    expect(removed).toBeUndefined();
    expect(rescoped).toBeUndefined();
  });

  it('refuses a cookie whose payload was changed, to a wider scope or a later expiry', () => {
    const clock = new ManualClock(1_800_000_000 * SECOND);
    const s = sessions(viewer, clock);
    const { value } = s.issue({ name: 'viewer', scope: 'read' });
    const [payload, signature] = value.split('.') as [string, string];
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { s: string; e: number };
    const forge = (change: object) =>
      `${Buffer.from(JSON.stringify({ ...data, ...change })).toString('base64url')}.${signature}`;

    expect(s.verify(forge({ s: 'admin' }))).toBeUndefined();
    expect(s.verify(forge({ e: data.e + 10 * 3_600 }))).toBeUndefined();
    expect(s.verify(`${payload}.${signature.slice(0, -2)}`)).toBeUndefined();
    expect(s.verify('garbage')).toBeUndefined();
    expect(s.verify('.')).toBeUndefined();
  });
});
