import type { Checksum } from './s3-body.js';

/** One stored object: bytes and what S3 answers about them. */
export interface S3Object {
  key: string;
  body: Buffer;
  /** Quoted MD5 hex. */
  etag: string;
  lastModified: Date;
  contentType: string;
  contentEncoding?: string;
  checksum: Checksum;
  /** `x-amz-meta-*` headers, names lower-case without the prefix. */
  metadata: Record<string, string>;
}

/** ListObjectsV2's parameters, validated. */
export interface ListParams {
  prefix: string;
  delimiter?: string;
  startAfter?: string;
  continuationToken?: string;
  maxKeys: number;
}

/** One page of ListObjectsV2. */
export interface ListPage {
  contents: S3Object[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
  /** Keys plus common prefixes on this page. */
  keyCount: number;
}

/** A continuation token the store did not hand out. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  readonly kind = 'invalid_continuation_token';
}

interface Bucket {
  createdAt: Date;
  objects: Map<string, S3Object>;
  /** Keys in S3's order (UTF-8 bytes), rebuilt on the first list after a change. */
  sorted?: string[];
}

/** S3 lists keys in the binary order of their UTF-8 bytes, not JavaScript's UTF-16 order. */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Where a page ended: after this key, or after every key under this common prefix. */
interface Marker {
  after: string;
  prefix: boolean;
}

const encodeToken = (m: Marker): string =>
  Buffer.from(JSON.stringify([m.after, m.prefix])).toString('base64');

function decodeToken(token: string): Marker {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'boolean')
      return { after: value[0], prefix: value[1] };
  } catch {
    // falls through to the error below
  }
  throw new InvalidTokenError('The continuation token provided is incorrect');
}

/**
 * The simulator's S3 buckets and objects, in memory. The batch side reads input files and
 * writes output files here directly; the HTTP side (`s3.ts`) serves it to the SDKs.
 */
export class S3Store {
  private readonly buckets = new Map<string, Bucket>();

  /** @returns false when the bucket exists already */
  createBucket(name: string, now: Date): boolean {
    if (this.buckets.has(name)) return false;
    this.buckets.set(name, { createdAt: now, objects: new Map() });
    return true;
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  /** Every bucket, by name, with when it was made. */
  listBuckets(): { name: string; createdAt: Date }[] {
    return [...this.buckets.entries()]
      .map(([name, b]) => ({ name, createdAt: b.createdAt }))
      .sort((a, b) => byUtf8(a.name, b.name));
  }

  /** @returns 'missing' for no such bucket, 'not_empty' when it still holds objects */
  deleteBucket(name: string): 'deleted' | 'missing' | 'not_empty' {
    const bucket = this.buckets.get(name);
    if (!bucket) return 'missing';
    if (bucket.objects.size > 0) return 'not_empty';
    this.buckets.delete(name);
    return 'deleted';
  }

  /** Stores an object, replacing one under the same key; false when the bucket does not exist. */
  put(bucketName: string, object: S3Object): boolean {
    const bucket = this.buckets.get(bucketName);
    if (!bucket) return false;
    if (!bucket.objects.has(object.key)) bucket.sorted = undefined;
    bucket.objects.set(object.key, object);
    return true;
  }

  get(bucketName: string, key: string): S3Object | undefined {
    return this.buckets.get(bucketName)?.objects.get(key);
  }

  /** Deleting a key that is not there succeeds, as on S3; false only without the bucket. */
  delete(bucketName: string, key: string): boolean {
    const bucket = this.buckets.get(bucketName);
    if (!bucket) return false;
    if (bucket.objects.delete(key)) bucket.sorted = undefined;
    return true;
  }

  /**
   * One page of ListObjectsV2: keys after `startAfter` or the continuation token, under
   * `prefix`, with keys that share a prefix up to the next `delimiter` rolled up into one
   * common prefix; `maxKeys` counts keys and common prefixes together.
   * @returns undefined when the bucket does not exist
   * @throws InvalidTokenError for a token this store did not hand out
   */
  list(bucketName: string, params: ListParams): ListPage | undefined {
    const bucket = this.buckets.get(bucketName);
    if (!bucket) return undefined;
    bucket.sorted ??= [...bucket.objects.keys()].sort(byUtf8);
    const marker: Marker | undefined = params.continuationToken
      ? decodeToken(params.continuationToken)
      : params.startAfter
        ? { after: params.startAfter, prefix: false }
        : undefined;
    const { prefix, delimiter, maxKeys } = params;
    const page: ListPage = { contents: [], commonPrefixes: [], isTruncated: false, keyCount: 0 };
    let last: Marker | undefined;
    for (const key of bucket.sorted) {
      if (marker && (byUtf8(key, marker.after) <= 0 || (marker.prefix && key.startsWith(marker.after))))
        continue;
      if (!key.startsWith(prefix)) continue;
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const common = cut >= 0 ? key.slice(0, cut + (delimiter?.length ?? 0)) : undefined;
      if (common !== undefined && last?.prefix && last.after === common) continue;
      if (page.keyCount >= maxKeys) {
        page.isTruncated = true;
        break;
      }
      if (common !== undefined) {
        page.commonPrefixes.push(common);
        last = { after: common, prefix: true };
      } else {
        page.contents.push(bucket.objects.get(key)!);
        last = { after: key, prefix: false };
      }
      page.keyCount++;
    }
    if (page.isTruncated && last) page.nextContinuationToken = encodeToken(last);
    return page;
  }
}
