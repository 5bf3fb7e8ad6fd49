import type { AnyRequest } from './listener.js';
import {
  deleteObjects,
  getObject,
  isError,
  NOT_IMPLEMENTED,
  noSuchBucket,
  type Outcome,
  putObject,
  type S3Request,
} from './s3-objects.js';
import { InvalidTokenError, type S3Store } from './s3-store.js';
import { S3_XMLNS, s3Error, sendBytes, sendS3Error, sendXml, xmlDocument } from './s3-wire.js';
import type { Reply } from './wire.js';

/**
 * The S3 subset the simulator serves on its own port, path-style (`/bucket/key`):
 * CreateBucket, HeadBucket, DeleteBucket, ListBuckets, PutObject, GetObject, HeadObject,
 * DeleteObject, DeleteObjects and ListObjectsV2 (`docs/bedrock-wire.md#s3-subset`).
 */

/** What the S3 handler needs from the server. */
export interface S3Deps {
  store: S3Store;
  /** The region the request was signed for: HeadBucket reports it as the bucket's. */
  region(req: AnyRequest): string;
}

/** Bucket names S3 accepts: 3-63 lower-case letters, digits, dots and hyphens, not an IP address. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d+\.\d+\.\d+\.\d+$/;

/** Query parameters that ask for something this subset does not do (multipart, ACLs, tagging, …). */
const SUBRESOURCES = [
  'uploads',
  'uploadId',
  'acl',
  'tagging',
  'versioning',
  'versionId',
  'policy',
  'cors',
  'lifecycle',
  'website',
  'encryption',
  'location',
  'select',
  'restore',
  'attributes',
] as const;

/** ListObjectsV2 (`GET /bucket?list-type=2`). */
function listObjects(r: S3Request, store: S3Store): Outcome {
  if (!store.hasBucket(r.bucket)) return noSuchBucket(r.bucket);
  const q = r.query;
  const maxKeysText = q.get('max-keys');
  const maxKeys = maxKeysText === null ? 1000 : Number(maxKeysText);
  if (!Number.isInteger(maxKeys) || maxKeys < 0)
    return s3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', {
      ArgumentName: 'max-keys',
      ArgumentValue: maxKeysText ?? '',
    });
  const encodingType = q.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url')
    return s3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: encodingType,
    });
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const startAfter = q.get('start-after') || undefined;
  const token = q.get('continuation-token') ?? undefined;
  let page: ReturnType<S3Store['list']>;
  try {
    page = store.list(r.bucket, {
      prefix,
      maxKeys: Math.min(maxKeys, 1000),
      ...(delimiter ? { delimiter } : {}),
      ...(startAfter ? { startAfter } : {}),
      ...(token !== undefined ? { continuationToken: token } : {}),
    });
  } catch (e) {
    if (e instanceof InvalidTokenError)
      return s3Error('InvalidArgument', e.message, {
        ArgumentName: 'continuation-token',
        ArgumentValue: token ?? '',
      });
    throw e;
  }
  if (!page) return noSuchBucket(r.bucket);
  const enc = (s: string): string =>
    encodingType === 'url' ? encodeURIComponent(s).replace(/%2F/g, '/') : s;
  return {
    status: 200,
    xml: xmlDocument('ListBucketResult', {
      '@xmlns': S3_XMLNS,
      Name: r.bucket,
      Prefix: enc(prefix),
      ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
      MaxKeys: maxKeys,
      ...(encodingType ? { EncodingType: encodingType } : {}),
      KeyCount: page.keyCount,
      IsTruncated: page.isTruncated,
      ...(token !== undefined ? { ContinuationToken: token } : {}),
      ...(page.nextContinuationToken ? { NextContinuationToken: page.nextContinuationToken } : {}),
      ...(startAfter ? { StartAfter: enc(startAfter) } : {}),
      Contents: page.contents.map((o) => ({
        Key: enc(o.key),
        LastModified: o.lastModified.toISOString(),
        ETag: o.etag,
        ChecksumAlgorithm: o.checksum.algorithm.toUpperCase(),
        ChecksumType: 'FULL_OBJECT',
        Size: o.body.length,
        StorageClass: 'STANDARD',
      })),
      CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
    }),
  };
}

function createBucket(r: S3Request, store: S3Store): Outcome {
  if (!BUCKET_NAME.test(r.bucket) || IP_ADDRESS.test(r.bucket) || r.bucket.includes('..'))
    return s3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: r.bucket });
  if (!store.createBucket(r.bucket, new Date()))
    return s3Error(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      { BucketName: r.bucket },
    );
  return { status: 200, headers: { Location: `/${r.bucket}` } };
}

function listBuckets(store: S3Store): Outcome {
  return {
    status: 200,
    xml: xmlDocument('ListAllMyBucketsResult', {
      '@xmlns': S3_XMLNS,
      Owner: { ID: 'simulated', DisplayName: 'simulated' },
      Buckets: {
        Bucket: store.listBuckets().map((b) => ({ Name: b.name, CreationDate: b.createdAt.toISOString() })),
      },
    }),
  };
}

async function operate(r: S3Request, deps: S3Deps): Promise<Outcome> {
  const { store } = deps;
  const { method, bucket, key, query } = r;
  if (SUBRESOURCES.some((s) => query.has(s))) return NOT_IMPLEMENTED;
  if (bucket === '')
    return method === 'GET'
      ? listBuckets(store)
      : s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  if (key === '') {
    switch (method) {
      case 'PUT':
        return createBucket(r, store);
      case 'HEAD':
        return store.hasBucket(bucket)
          ? { status: 200, headers: { 'x-amz-bucket-region': deps.region(r.req) } }
          : noSuchBucket(bucket);
      case 'GET':
        return query.get('list-type') === '2' ? listObjects(r, store) : NOT_IMPLEMENTED;
      case 'POST':
        return query.has('delete') ? deleteObjects(r, store) : NOT_IMPLEMENTED;
      case 'DELETE': {
        const outcome = store.deleteBucket(bucket);
        if (outcome === 'missing') return noSuchBucket(bucket);
        if (outcome === 'not_empty')
          return s3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', {
            BucketName: bucket,
          });
        return { status: 204 };
      }
    }
  } else {
    switch (method) {
      case 'PUT':
        return putObject(r, store);
      case 'GET':
        return getObject(r, store, false);
      case 'HEAD':
        return getObject(r, store, true);
      case 'DELETE':
        return store.delete(bucket, key) ? { status: 204 } : noSuchBucket(bucket);
    }
  }
  return s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
}

/** Splits `/bucket/key…` (path-style) into the bucket and the URL-decoded key. */
function target(pathname: string): { bucket: string; key: string } | undefined {
  const rest = pathname.slice(1);
  const slash = rest.indexOf('/');
  try {
    return slash < 0
      ? { bucket: decodeURIComponent(rest), key: '' }
      : { bucket: decodeURIComponent(rest.slice(0, slash)), key: decodeURIComponent(rest.slice(slash + 1)) };
  } catch {
    return undefined;
  }
}

/**
 * Answers one S3 request; the server routes a request here when it is signed for the `s3`
 * service (`docs/bedrock-wire.md#s3-subset`).
 * @throws Error only for a fault of the simulator itself (the server answers it with a 500)
 */
export async function handleS3(req: AnyRequest, reply: Reply, deps: S3Deps): Promise<void> {
  const method = req.method ?? 'GET';
  const head = method === 'HEAD';
  const url = new URL(req.url ?? '/', 'http://s3');
  const where = target(url.pathname);
  if (!where)
    return sendS3Error(reply, s3Error('InvalidArgument', 'The path is not valid URL encoding.'), head);
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const outcome = await operate({ req, method, ...where, query: url.searchParams, header }, deps);
  if (isError(outcome)) return sendS3Error(reply, outcome, head);
  if ('bytes' in outcome) return sendBytes(reply, outcome.bytes, outcome.headers);
  sendXml(reply, outcome.status, outcome.xml, outcome.headers ?? {});
}
