import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>` (see `docs/callbacks.md`). */
export const SIGNATURE_HEADER = 'x-bedrock-jobs-signature';

/** Receivers should refuse signatures older (or newer) than this by default, in seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * The signature header value for `body` sent at `timestamp` (unix seconds): HMAC-SHA256 with
 * `secret` over `timestamp + "." + body`, hex-encoded. Signing the timestamp with the body
 * lets a receiver refuse a replayed request whose timestamp is old.
 */
export function signBody(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

export interface VerifyInput {
  secret: string;
  /** The `X-Bedrock-Jobs-Signature` header as received. */
  header: string | undefined;
  /** The raw request body, exactly as received (not re-serialized JSON). */
  body: string;
  /** Now, in unix seconds. */
  nowSeconds: number;
  /** Largest accepted distance between the signed timestamp and now; default 300 s. */
  toleranceSeconds?: number;
}

/**
 * Checks a callback as a receiver would: the timestamp is within the tolerance and one of the
 * `v1` signatures matches, compared in constant time. For receivers written in Node; the
 * recipe for any language is in `docs/callbacks.md`.
 */
export function verifySignature(input: VerifyInput): boolean {
  const { header, nowSeconds, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = input;
  if (!header) return false;
  const pairs = header.split(',').map((part) => {
    const at = part.indexOf('=');
    return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
  });
  const t = pairs.find(([k]) => k === 't')?.[1];
  if (t === undefined || !/^\d+$/.test(t)) return false;
  const timestamp = Number(t);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(input.secret, timestamp, input.body), 'hex');
  return pairs.some(([k, v]) => {
    if (k !== 'v1' || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, 'hex'), expected);
  });
}
