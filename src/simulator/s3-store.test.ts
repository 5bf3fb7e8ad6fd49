import { describe, expect, it } from 'vitest';
import { InvalidTokenError, S3Store } from './s3-store.js';

function storeWith(keys: string[]): S3Store {
  const store = new S3Store();
  store.createBucket('b', new Date(0));
  for (const key of keys)
    store.put('b', {
      key,
      body: Buffer.from(key),
      etag: '"x"',
      lastModified: new Date(0),
      contentType: 'text/plain',
      checksum: { algorithm: 'crc32', value: 'AAAAAA==' },
      metadata: {},
    });
  return store;
}

const keysOf = (page: ReturnType<S3Store['list']>) => page?.contents.map((o) => o.key);

describe('S3Store.list (ListObjectsV2)', () => {
  it('orders keys by their UTF-8 bytes, as S3 does', () => {
    const store = storeWith(['b', '\u{1F600}', '\uFF5E', 'a']);

    expect(keysOf(store.list('b', { prefix: '', maxKeys: 10 }))).toEqual(['a', 'b', '\uFF5E', '\u{1F600}']);
  });

  it('does not repeat a common prefix on the page after the one that ended with it', () => {
    const store = storeWith(['a/1', 'a/2', 'a/3', 'b']);
    const first = store.list('b', { prefix: '', delimiter: '/', maxKeys: 1 });
    const second = store.list('b', {
      prefix: '',
      delimiter: '/',
      maxKeys: 1,
      continuationToken: first?.nextContinuationToken,
    });

    expect(first?.commonPrefixes).toEqual(['a/']);
    expect(first?.isTruncated).toBe(true);
    expect(keysOf(second)).toEqual(['b']);
    expect(second?.isTruncated).toBe(false);
  });

  it('starts after start-after, and refuses a token it did not hand out', () => {
    const store = storeWith(['k1', 'k2', 'k3']);

    expect(keysOf(store.list('b', { prefix: 'k', startAfter: 'k1', maxKeys: 10 }))).toEqual(['k2', 'k3']);
    expect(() => store.list('b', { prefix: '', maxKeys: 1, continuationToken: 'bm9wZQ' })).toThrow(
      InvalidTokenError,
    );
    expect(store.list('missing', { prefix: '', maxKeys: 1 })).toBeUndefined();
  });
});
