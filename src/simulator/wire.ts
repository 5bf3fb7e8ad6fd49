import { randomUUID } from 'node:crypto';
import { SIM_ERRORS, type SimError } from './control.js';
import type { AnyRequest, AnyResponse } from './listener.js';

/** Everything the simulator answers goes through these writers, for HTTP/1.1 and HTTP/2 alike. */
export interface Reply {
  requestId: string;
  res: AnyResponse;
}

export function newReply(res: AnyResponse): Reply {
  return { requestId: randomUUID(), res };
}

type Headers = Record<string, string | number>;

function head(reply: Reply, status: number, headers: Headers): void {
  if (reply.res.headersSent || reply.res.destroyed) return;
  (reply.res as { writeHead(status: number, headers: Headers): unknown }).writeHead(status, {
    'x-amzn-requestid': reply.requestId,
    date: new Date().toUTCString(),
    ...headers,
  });
}

export function sendJson(reply: Reply, status: number, body: unknown, headers: Headers = {}): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  head(reply, status, { 'content-type': 'application/json', 'content-length': payload.length, ...headers });
  if (!reply.res.destroyed) reply.res.end(payload);
}

/** An error exactly as Bedrock sends it (reference §2.2). */
export function sendError(reply: Reply, error: SimError): void {
  const status = SIM_ERRORS[error.name] ?? 400;
  sendJson(
    reply,
    status,
    { message: error.message, ...error.extra },
    {
      'x-amzn-errortype': `${error.name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      ...(error.retryAfterSeconds !== undefined ? { 'retry-after': Math.ceil(error.retryAfterSeconds) } : {}),
    },
  );
}

/** An error the SDK knows by name though it is not modelled for Bedrock (403 without auth, 404 path). */
export function sendRawError(reply: Reply, status: number, name: string, message: string): void {
  sendJson(reply, status, { message }, { 'x-amzn-errortype': name });
}

export function startStream(reply: Reply, headers: Headers): void {
  head(reply, 200, { 'content-type': 'application/vnd.amazon.eventstream', ...headers });
}

export function writeFrame(reply: Reply, frame: Uint8Array): void {
  if (!reply.res.destroyed) (reply.res as { write(chunk: Uint8Array): boolean }).write(frame);
}

export function endStream(reply: Reply): void {
  if (!reply.res.destroyed) reply.res.end();
}

/** Reads a request body up to Bedrock's 25,000,000-byte limit. */
export async function readBody(req: AnyRequest, limit = 25_000_000): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return 'too_large';
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
