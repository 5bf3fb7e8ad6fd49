import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { type Headers, type Reply, writeHead } from './wire.js';

/** S3's XML namespace, on every result document. */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** The S3 errors the simulator answers with, and their HTTP status. */
export const S3_ERRORS = {
  AccessDenied: 403,
  BadDigest: 400,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  IncompleteBody: 400,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidRequest: 400,
  MalformedXML: 400,
  MethodNotAllowed: 405,
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NotImplemented: 501,
} as const;
/** One of {@link S3_ERRORS}. */
export type S3ErrorCode = keyof typeof S3_ERRORS;

/** An S3 error answer: code, message and the resource it names. */
export interface S3Error {
  code: S3ErrorCode;
  message: string;
  /** Extra elements of the `<Error>` document, e.g. `BucketName`, `Key`. */
  detail?: Record<string, string>;
}

export const s3Error = (code: S3ErrorCode, message: string, detail?: Record<string, string>): S3Error =>
  detail ? { code, message, detail } : { code, message };

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@' });
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false });

/** An XML document: the declaration, then `root` built from a plain object. */
export function xmlDocument(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: body }) as string}`;
}

/**
 * Parses a request's XML body (DeleteObjects, CreateBucketConfiguration).
 * @returns undefined when it is not well-formed XML
 */
export function parseXml(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = parser.parse(text, true);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** S3's two request ids: `x-amz-request-id` (the SDKs' `$metadata.requestId`) and `x-amz-id-2`. */
function idHeaders(reply: Reply): Headers {
  return {
    'x-amz-request-id': reply.requestId,
    'x-amz-id-2': Buffer.from(reply.requestId).toString('base64'),
  };
}

function endWith(reply: Reply, body: Buffer | undefined): void {
  if (reply.res.destroyed) return;
  if (body) reply.res.end(body);
  else reply.res.end();
}

/** Answers with an XML document (or no body: `HEAD`, 204). */
export function sendXml(reply: Reply, status: number, xml: string | undefined, headers: Headers = {}): void {
  const payload = xml === undefined ? undefined : Buffer.from(xml, 'utf8');
  Object.assign(headers, idHeaders(reply));
  if (payload) {
    headers['Content-Type'] = 'application/xml';
    headers['Content-Length'] = payload.length;
  }
  writeHead(reply, status, headers);
  endWith(reply, payload);
}

/** Answers with object bytes (`GetObject`), or only their headers (`HeadObject`). */
export function sendBytes(reply: Reply, body: Buffer | undefined, headers: Headers): void {
  Object.assign(headers, idHeaders(reply));
  writeHead(reply, 200, headers);
  endWith(reply, body);
}

/**
 * An S3 error: the `<Error>` document with `Code`, `Message`, the resource and the request
 * ids; a `HEAD` request gets the status alone, as S3 sends it (the SDKs then name the error
 * by its status: `NotFound` for 404).
 */
export function sendS3Error(reply: Reply, error: S3Error, head: boolean): void {
  const status = S3_ERRORS[error.code];
  if (head) {
    sendXml(reply, status, undefined);
    return;
  }
  sendXml(
    reply,
    status,
    xmlDocument('Error', {
      Code: error.code,
      Message: error.message,
      ...error.detail,
      RequestId: reply.requestId,
      HostId: Buffer.from(reply.requestId).toString('base64'),
    }),
  );
}
