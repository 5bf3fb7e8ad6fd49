import { describe, expect, it } from 'vitest';
import {
  ChunkedBodyError,
  checksumMatches,
  checksumOf,
  claimedChecksum,
  decodeAwsChunked,
} from './s3-body.js';

describe('decodeAwsChunked', () => {
  it('joins the chunks and reads the checksum trailer, as the JS SDK streams an upload', () => {
    const body = Buffer.from('3\r\nstr\r\n3\r\neam\r\n0\r\nx-amz-checksum-crc32:8Om+HA==\r\n\r\n');

    expect(decodeAwsChunked(body)).toEqual({
      data: Buffer.from('stream'),
      trailers: { 'x-amz-checksum-crc32': '8Om+HA==' },
    });
  });

  it('reads past chunk signatures of signed streaming uploads', () => {
    const sig = ';chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648';
    const body = Buffer.from(`5${sig}\r\nhello\r\n0${sig}\r\n\r\n`);

    expect(decodeAwsChunked(body)).toEqual({ data: Buffer.from('hello'), trailers: {} });
  });

  it('refuses broken framing', () => {
    expect(() => decodeAwsChunked(Buffer.from('zz\r\nabc\r\n0\r\n\r\n'))).toThrow(ChunkedBodyError);
    expect(() => decodeAwsChunked(Buffer.from('5\r\nabc'))).toThrow(ChunkedBodyError);
    expect(() => decodeAwsChunked(Buffer.from('2\r\nabc\r\n0\r\n\r\n'))).toThrow(ChunkedBodyError);
  });
});

describe('flexible checksums', () => {
  it('computes CRC32 as the SDK sends it, and SHA-256 in base64', () => {
    expect(checksumOf('crc32', Buffer.from('hello'))).toBe('NhCmhg==');
    expect(checksumOf('sha256', Buffer.from(''))).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('takes the first checksum a request names, and leaves algorithms it cannot compute unverified', () => {
    const claimed = claimedChecksum({ 'x-amz-checksum-crc32c': 'abc=', other: 'x' });

    expect(claimed).toEqual({ algorithm: 'crc32c', value: 'abc=' });
    expect(checksumMatches(claimed!, Buffer.from('anything'))).toBe(true);
    expect(checksumMatches({ algorithm: 'crc32', value: 'AAAAAA==' }, Buffer.from('hello'))).toBe(false);
  });
});
