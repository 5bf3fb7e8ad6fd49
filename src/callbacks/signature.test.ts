import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signBody, verifySignature } from './signature.js';

const secret = 'whsec-for-unit-tests-0123456789';
const body = '{"type":"batch.done","batchId":"b1","total":2,"completed":2,"failed":0}';

describe('signBody', () => {
  it('signs timestamp + "." + body with HMAC-SHA256, hex', () => {
    const header = signBody(secret, 1_700_000_000, body);

    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(header).toBe(`t=1700000000,v1=${expected}`);
  });
});

describe('verifySignature', () => {
  const header = signBody(secret, 1_700_000_000, body);

  it('accepts the signed body within the tolerance', () => {
    expect(verifySignature({ secret, header, body, nowSeconds: 1_700_000_299 })).toBe(true);
  });

  it('refuses a changed body, another secret, a stale or future timestamp, and no header', () => {
    expect(verifySignature({ secret, header, body: body.replace('2', '3'), nowSeconds: 1_700_000_000 })).toBe(
      false,
    );
    expect(verifySignature({ secret: `${secret}!`, header, body, nowSeconds: 1_700_000_000 })).toBe(false);
    expect(verifySignature({ secret, header, body, nowSeconds: 1_700_000_301 })).toBe(false);
    expect(verifySignature({ secret, header, body, nowSeconds: 1_699_999_699 })).toBe(false);
    expect(verifySignature({ secret, header: undefined, body, nowSeconds: 1_700_000_000 })).toBe(false);
  });

  it('refuses a header whose timestamp was changed to look fresh', () => {
    const replayed = header.replace('t=1700000000', 't=1800000000');

    expect(verifySignature({ secret, header: replayed, body, nowSeconds: 1_800_000_000 })).toBe(false);
  });

  it('accepts any matching v1 among several, for a receiver rotating secrets', () => {
    const [, v1] = header.split(',');
    const withOld = `t=1700000000,v1=${'0'.repeat(64)},${v1}`;

    expect(verifySignature({ secret, header: withOld, body, nowSeconds: 1_700_000_000 })).toBe(true);
  });
});
