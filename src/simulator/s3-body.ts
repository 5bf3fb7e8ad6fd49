import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * S3 request bodies as the AWS SDKs send them (`docs/bedrock-wire.md#s3-subset`): `aws-chunked`
 * framing for streamed uploads, with the checksum in a trailer, and the flexible checksums
 * (`x-amz-checksum-<algorithm>`) the clients add by default.
 */

/** A body that is not valid `aws-chunked` framing. */
export class ChunkedBodyError extends Error {
  override readonly name = 'ChunkedBodyError';
  readonly kind = 'invalid_chunked_body';
}

/** An `aws-chunked` body, decoded: the payload and the trailing headers (lower-case names). */
export interface DecodedBody {
  data: Buffer;
  trailers: Record<string, string>;
}

const CRLF = Buffer.from('\r\n');

/**
 * Decodes `Content-Encoding: aws-chunked`: `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n`
 * repeated, a zero-size chunk, then `name:value` trailer lines and an empty line. Chunk
 * signatures and the trailer signature are read past, not checked (the simulator checks no
 * signature).
 * @throws ChunkedBodyError when the framing is broken
 */
export function decodeAwsChunked(body: Buffer): DecodedBody {
  const parts: Buffer[] = [];
  let at = 0;
  const line = (): string => {
    const end = body.indexOf(CRLF, at);
    if (end < 0) throw new ChunkedBodyError('aws-chunked body ends inside a chunk header');
    const text = body.subarray(at, end).toString('latin1');
    at = end + 2;
    return text;
  };
  for (;;) {
    const header = line();
    const size = Number.parseInt(header.split(';')[0] ?? '', 16);
    if (!Number.isInteger(size) || size < 0)
      throw new ChunkedBodyError(`aws-chunked chunk size is not hexadecimal: ${header.slice(0, 20)}`);
    if (size === 0) break;
    if (at + size + 2 > body.length) throw new ChunkedBodyError('aws-chunked body ends inside a chunk');
    parts.push(body.subarray(at, at + size));
    at += size;
    if (!body.subarray(at, at + 2).equals(CRLF))
      throw new ChunkedBodyError('aws-chunked chunk is longer than its size');
    at += 2;
  }
  const trailers: Record<string, string> = {};
  while (at < body.length) {
    const text = line();
    if (text === '') break;
    const colon = text.indexOf(':');
    if (colon <= 0) throw new ChunkedBodyError('aws-chunked trailer line has no name');
    trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }
  return { data: parts.length === 1 ? parts[0]! : Buffer.concat(parts), trailers };
}

/** The flexible checksum algorithms S3 takes, as named in `x-amz-checksum-<name>`. */
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
/** One of {@link CHECKSUM_ALGORITHMS}. */
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** A checksum of an object: its algorithm and base64 value, as S3 stores and returns it. */
export interface Checksum {
  algorithm: ChecksumAlgorithm;
  value: string;
}

/**
 * The base64 checksum of `data`, or undefined for an algorithm Node has no built-in for
 * (CRC32C, CRC64NVME): those values are kept as the client sent them, unverified.
 */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): string | undefined {
  switch (algorithm) {
    case 'crc32': {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(data) >>> 0);
      return out.toString('base64');
    }
    case 'sha1':
    case 'sha256':
      return createHash(algorithm).update(data).digest('base64');
    default:
      return undefined;
  }
}

/** The checksum a request names in its headers or trailers (`x-amz-checksum-<algorithm>`). */
export function claimedChecksum(fields: Record<string, unknown>): Checksum | undefined {
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = fields[`x-amz-checksum-${algorithm}`];
    if (typeof value === 'string' && value.length > 0) return { algorithm, value };
  }
  return undefined;
}

/** Whether `claimed` matches `data` (true for an algorithm that cannot be computed here). */
export function checksumMatches(claimed: Checksum, data: Buffer): boolean {
  const actual = checksumOf(claimed.algorithm, data);
  return actual === undefined || actual === claimed.value;
}

/** The quoted MD5 hex an object's `ETag` is, for a single-part upload. */
export function etagOf(data: Buffer): string {
  return `"${createHash('md5').update(data).digest('hex')}"`;
}

/** Whether a `Content-MD5` header (base64) matches `data`. */
export function md5Matches(contentMd5: string, data: Buffer): boolean {
  return createHash('md5').update(data).digest('base64') === contentMd5;
}
