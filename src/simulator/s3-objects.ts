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
import type { S3Object, S3Store } from './s3-store.js';
import { parseXml, S3_XMLNS, type S3Error, s3Error, xmlDocument } from './s3-wire.js';
import { type Headers, readBody } from './wire.js';

/** The object operations of the S3 subset: PutObject, GetObject, HeadObject, DeleteObjects. */

/** Largest object the simulator keeps: a batch input file may be up to 1 GB. */
export const MAX_OBJECT_BYTES = 1_073_741_824;
/** Room for `aws-chunked` framing around the largest object. */
const FRAMING_BYTES = 4 * 1024 * 1024;

/** One S3 request: who it names and what it asks. */
export interface S3Request {
  req: AnyRequest;
  method: string;
  bucket: string;
  /** '' for a request on the bucket itself. */
  key: string;
  query: URLSearchParams;
  header(name: string): string | undefined;
}

/** A status and XML document or no body, bytes with headers, or an S3 error. */
export type Outcome =
  | { status: number; xml?: string; headers?: Headers }
  | { bytes: Buffer | undefined; headers: Headers }
  | S3Error;

/** Whether an outcome is an error to answer. */
export const isError = (o: Outcome): o is S3Error => 'code' in o;

/** `NoSuchBucket`, naming the bucket. */
export const noSuchBucket = (bucket: string): S3Error =>
  s3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });

/** The answer to what this subset does not do (multipart, copy, ACLs, …). */
export const NOT_IMPLEMENTED = s3Error(
  'NotImplemented',
  'A header you provided implies functionality that is not implemented',
);

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

/** PutObject: stores the payload with its checksum, ETag, type, encoding and metadata. */
export async function putObject(r: S3Request, store: S3Store): Promise<Outcome> {
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

/** GetObject, or HeadObject with `head`: the bytes (or none) and what S3 says of them. */
export function getObject(r: S3Request, store: S3Store, head: boolean): Outcome {
  if (!store.hasBucket(r.bucket)) return noSuchBucket(r.bucket);
  const object = store.get(r.bucket, r.key);
  if (!object) return s3Error('NoSuchKey', 'The specified key does not exist.', { Key: r.key });
  const withChecksum = r.header('x-amz-checksum-mode') === 'ENABLED';
  return { bytes: head ? undefined : object.body, headers: objectHeaders(object, withChecksum) };
}

/** DeleteObjects: `<Delete><Object><Key>…</Key></Object>…<Quiet>true</Quiet></Delete>`. */
export async function deleteObjects(r: S3Request, store: S3Store): Promise<Outcome> {
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
