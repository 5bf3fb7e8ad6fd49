import type { AnyRequest } from './listener.js';
import {
  type Checksum,
  ChunkedBodyError,
  checksumMatches,
  checksumOf,
  claimedChecksum,
  decodeAwsChunked,
  etagOf,
  md5Matches,
} from './s3-body.js';
import { InvalidTokenError, type S3Object, type S3Store } from './s3-store.js';
import {
  parseXml,
  S3_XMLNS,
  type S3Error,
  s3Error,
  sendBytes,
  sendS3Error,
  sendXml,
  xmlDocument,
} from './s3-wire.js';
import { type Headers, type Reply, readBody } from './wire.js';

/**
 * The S3 subset the simulator serves on its own port, path-style (`/bucket/key`):
 * CreateBucket, HeadBucket, DeleteBucket, ListBuckets, PutObject, GetObject, HeadObject,
 * DeleteObject, DeleteObjects and ListObjectsV2 (`docs/bedrock-wire.md#s3-subset`).
 */

/** Largest object the simulator keeps: a batch input file may be up to 1 GB. */
export const MAX_OBJECT_BYTES = 1_073_741_824;
/** Room for `aws-chunked` framing around the largest object. */
const FRAMING_BYTES = 4 * 1024 * 1024;

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

const NOT_IMPLEMENTED = s3Error(
  'NotImplemented',
  'A header you provided implies functionality that is not implemented',
);

const noSuchBucket = (bucket: string): S3Error =>
  s3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });

/** One S3 request: who it names and what it asks. */
interface S3Request {
  req: AnyRequest;
  method: string;
  bucket: string;
  /** '' for a request on the bucket itself. */
  key: string;
  query: URLSearchParams;
  header(name: string): string | undefined;
}

/** A status and XML document or no body, bytes with headers, or an S3 error. */
type Outcome =
  | { status: number; xml?: string; headers?: Headers }
  | { bytes: Buffer | undefined; headers: Headers }
  | S3Error;

const isError = (o: Outcome): o is S3Error => 'code' in o;

function objectHeaders(object: S3Object, withChecksum: boolean): Headers {
  const headers: Headers = {
    'Content-Type': object.contentType,
    'Content-Length': object.body.length,
    ETag: object.etag,
    'Last-Modified': object.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
  };
  if (object.contentEncoding) headers['Content-Encoding'] = object.contentEncoding;
  for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
  if (withChecksum) {
    headers[`x-amz-checksum-${object.checksum.algorithm}`] = object.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return headers;
}

/** The payload of a PutObject: `aws-chunked` decoded, lengths and checksums checked. */
async function payloadOf(r: S3Request): Promise<{ data: Buffer; checksum: Checksum } | S3Error> {
  const raw = await readBody(r.req, MAX_OBJECT_BYTES + FRAMING_BYTES);
  if (raw === 'too_large')
    return s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
  const encoding = r.header('content-encoding') ?? '';
  const streaming = (r.header('x-amz-content-sha256') ?? '').startsWith('STREAMING-');
  let data = raw;
  let trailers: Record<string, string> = {};
  if (streaming || encoding.split(',').some((e) => e.trim() === 'aws-chunked')) {
    try {
      ({ data, trailers } = decodeAwsChunked(raw));
    } catch (e) {
      if (e instanceof ChunkedBodyError) return s3Error('IncompleteBody', e.message);
      throw e;
    }
    const declared = r.header('x-amz-decoded-content-length');
    if (declared !== undefined && Number(declared) !== data.length)
      return s3Error(
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length',
      );
  }
  if (data.length > MAX_OBJECT_BYTES)
    return s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
  const md5 = r.header('content-md5');
  if (md5 !== undefined && !md5Matches(md5, data))
    return s3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  const claimed = claimedChecksum({ ...r.req.headers, ...trailers });
  if (claimed && !checksumMatches(claimed, data))
    return s3Error(
      'BadDigest',
      `The ${claimed.algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
    );
  return { data, checksum: claimed ?? { algorithm: 'crc32', value: checksumOf('crc32', data)! } };
}

async function putObject(r: S3Request, store: S3Store): Promise<Outcome> {
  if (r.header('x-amz-copy-source') !== undefined) return NOT_IMPLEMENTED;
  if (!store.hasBucket(r.bucket)) return noSuchBucket(r.bucket);
  const payload = await payloadOf(r);
  if ('code' in payload) return payload;
  const encoding = (r.header('content-encoding') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked')
    .join(', ');
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.req.headers))
    if (name.startsWith('x-amz-meta-') && typeof value === 'string')
      metadata[name.slice('x-amz-meta-'.length)] = value;
  const object: S3Object = {
    key: r.key,
    body: payload.data,
    etag: etagOf(payload.data),
    lastModified: new Date(),
    contentType: r.header('content-type') ?? 'binary/octet-stream',
    ...(encoding ? { contentEncoding: encoding } : {}),
    checksum: payload.checksum,
    metadata,
  };
  if (!store.put(r.bucket, object)) return noSuchBucket(r.bucket);
  return {
    status: 200,
    headers: {
      ETag: object.etag,
      [`x-amz-checksum-${object.checksum.algorithm}`]: object.checksum.value,
      'x-amz-checksum-type': 'FULL_OBJECT',
    },
  };
}

function getObject(r: S3Request, store: S3Store, head: boolean): Outcome {
  if (!store.hasBucket(r.bucket)) return noSuchBucket(r.bucket);
  const object = store.get(r.bucket, r.key);
  if (!object) return s3Error('NoSuchKey', 'The specified key does not exist.', { Key: r.key });
  const withChecksum = r.header('x-amz-checksum-mode') === 'ENABLED';
  return { bytes: head ? undefined : object.body, headers: objectHeaders(object, withChecksum) };
}

/** DeleteObjects: `<Delete><Object><Key>…</Key></Object>…<Quiet>true</Quiet></Delete>`. */
async function deleteObjects(r: S3Request, store: S3Store): Promise<Outcome> {
  if (!store.hasBucket(r.bucket)) return noSuchBucket(r.bucket);
  const raw = await readBody(r.req, 2_000_000);
  if (raw === 'too_large') return s3Error('MalformedXML', 'The XML you provided was not well-formed');
  if (r.header('content-md5') === undefined && !claimedChecksum(r.req.headers))
    return s3Error(
      'InvalidRequest',
      'Missing required header for this request: Content-MD5 OR x-amz-checksum-*',
    );
  const doc = parseXml(raw.toString('utf8'))?.Delete as Record<string, unknown> | undefined;
  const objects = doc?.Object;
  const list = (Array.isArray(objects) ? objects : objects === undefined ? [] : [objects]) as unknown[];
  const keys = list.map((o) =>
    typeof o === 'object' && o !== null ? (o as { Key?: unknown }).Key : undefined,
  );
  if (!doc || keys.length === 0 || keys.length > 1000 || keys.some((k) => typeof k !== 'string'))
    return s3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  const quiet = String(doc.Quiet ?? 'false') === 'true';
  for (const key of keys as string[]) store.delete(r.bucket, key);
  return {
    status: 200,
    xml: xmlDocument('DeleteResult', {
      '@xmlns': S3_XMLNS,
      ...(quiet ? {} : { Deleted: (keys as string[]).map((Key) => ({ Key })) }),
    }),
  };
}

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
