import { randomUUID } from 'node:crypto';
import { type AnyRequest, type AnyResponse, tcpSocketOf } from './listener.js';

/** One answer in the making: everything the simulator writes goes through it, HTTP/1.1 and HTTP/2 alike. */
export interface Reply {
  /** Sent as `x-amzn-RequestId`; the SDKs expose it as `$metadata.requestId`. */
  requestId: string;
  res: AnyResponse;
}

/** A reply with a fresh request id. */
export function newReply(res: AnyResponse): Reply {
  return { requestId: randomUUID(), res };
}

/** Response headers by name; numbers are written as decimal strings. */
export type Headers = Record<string, string | number>;

// `Date` changes once a second: format it once a second, not once per answer.
let dateSecond = -1;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Writes the status line and headers, with `x-amzn-RequestId` and `Date` on every answer. */
export function writeHead(reply: Reply, status: number, headers: Headers): void {
  const res = reply.res;
  if (res.headersSent || res.destroyed) return;
  headers['x-amzn-RequestId'] = reply.requestId;
  headers.Date = httpDate();
  (res as { writeHead(status: number, headers: Headers): unknown }).writeHead(status, headers);
}

/** Answers with a JSON body (already serialized or not). */
export function sendJson(reply: Reply, status: number, body: unknown, headers: Headers = {}): void {
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = payload.length;
  writeHead(reply, status, headers);
  if (!reply.res.destroyed) reply.res.end(payload);
}

/** Starts an `application/vnd.amazon.eventstream` answer (HTTP 200 before the first event). */
export function startStream(reply: Reply, headers: Headers): void {
  headers['Content-Type'] = 'application/vnd.amazon.eventstream';
  writeHead(reply, 200, headers);
}

/** Writes one event-stream frame; a no-op once the client is gone. */
export function writeFrame(reply: Reply, frame: Uint8Array): void {
  if (!reply.res.destroyed) (reply.res as { write(chunk: Uint8Array): boolean }).write(frame);
}

/** Ends a streamed answer, with a last frame when given (one write instead of two). */
export function endStream(reply: Reply, last?: Uint8Array): void {
  if (reply.res.destroyed) return;
  if (last) (reply.res as { end(chunk: Uint8Array): unknown }).end(last);
  else reply.res.end();
}

/**
 * Drops the TCP connection of a call without answering: a reset (RST), as a load balancer or a
 * network that loses the connection does. Over HTTP/2 the connection is the session, so every
 * call on it goes down with this one.
 */
export function dropConnection(reply: Reply): void {
  const res = reply.res;
  const session = 'stream' in res ? res.stream.session : undefined;
  const socket = 'stream' in res ? (session ? tcpSocketOf(session) : undefined) : res.socket;
  if (socket && !socket.destroyed) socket.resetAndDestroy();
  else res.destroy();
}

/**
 * Reads a request body up to Bedrock's 25,000,000-byte limit.
 * @returns the body, or `'too_large'` once past the limit (the rest is read and dropped)
 * @throws Error when the client goes away before the body ends
 */
export function readBody(req: AnyRequest, limit = 25_000_000): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('end', () => {
      ended = true;
      if (size > limit) resolve('too_large');
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(new Error('request closed before its body ended'));
    });
  });
}
