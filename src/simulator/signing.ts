import type { AnyRequest } from './listener.js';

/**
 * What a request's SigV4 credential scope says: `Credential=<key>/<date>/<region>/<service>/aws4_request`,
 * in the `Authorization` header or, for a presigned URL, the `X-Amz-Credential` query parameter.
 * The simulator checks no signature; it reads the scope to route a request (`s3` or `bedrock`)
 * and to build ARNs in the region the caller signed for.
 */
export interface SignedScope {
  region: string;
  service: string;
}

const IN_HEADER = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;
const IN_QUERY = /^[^/]+\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request$/;

/** The credential scope of a request, or undefined when it is not signed with SigV4. */
export function signedScope(req: AnyRequest): SignedScope | undefined {
  const auth = req.headers.authorization;
  let m = IN_HEADER.exec(typeof auth === 'string' ? auth : '');
  if (!m) {
    const q = (req.url ?? '').indexOf('?');
    const credential =
      q < 0 ? null : new URLSearchParams((req.url ?? '').slice(q + 1)).get('X-Amz-Credential');
    m = credential ? IN_QUERY.exec(credential) : null;
  }
  return m ? { region: m[1]!, service: m[2]! } : undefined;
}

/** The region a request was signed for; `us-east-1` when it names none. */
export function signedRegion(req: AnyRequest): string {
  return signedScope(req)?.region ?? 'us-east-1';
}

/** Whether a request is signed for S3 (`…/s3/aws4_request`): it goes to the S3 subset, whatever its path. */
export function isS3Request(req: AnyRequest): boolean {
  return signedScope(req)?.service === 's3';
}
