import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** A request from either protocol: handlers use only what both share. */
export type AnyRequest = IncomingMessage | Http2ServerRequest;
/** The response to an {@link AnyRequest}. */
export type AnyResponse = ServerResponse | Http2ServerResponse;
/** Called for every request on either protocol. */
export type RequestHandler = (req: AnyRequest, res: AnyResponse) => void;

/** The HTTP/2 connection preface (RFC 9113 §3.4) starts with these bytes. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0');

/**
 * Hands node:http2 a socket whose first bytes were already read. node:http2 reads from the
 * socket's native handle, so pushing the bytes back with `unshift` is not enough: this Duplex
 * yields the sniffed bytes first, then the socket's data; writes go straight to the socket.
 */
class ReplaySocket extends Duplex {
  constructor(
    private readonly socket: Socket,
    first: Buffer,
  ) {
    super();
    this.push(first);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (e) => this.destroy(e));
  }
  override _read(): void {
    this.socket.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.socket.write(chunk, done);
  }
  override _final(done: (e?: Error | null) => void): void {
    this.socket.end(done);
  }
  override _destroy(err: Error | null, done: (e?: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }
  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delayMs?: number): this {
    this.socket.setKeepAlive(enable, delayMs);
    return this;
  }
  setTimeout(ms: number, cb?: () => void): this {
    this.socket.setTimeout(ms, cb);
    return this;
  }
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
}

/**
 * The TCP socket under an HTTP/2 session. node:http2 wraps the replay socket in a stream socket
 * of its own, so the session cannot reach it; the listener hangs it on the session here.
 */
const TCP_SOCKET = Symbol('tcpSocket');

/** The TCP connection an HTTP/2 session of this listener runs on. */
export function tcpSocketOf(session: Http2Session): Socket | undefined {
  return (session as Http2Session & { [TCP_SOCKET]?: Socket })[TCP_SOCKET];
}

/** A TCP listener that serves two protocols; `close()` ends every connection and resolves. */
export interface DualListener {
  server: Server;
  close(): Promise<void>;
}

/** True once `head` is the whole preface prefix; undefined while a shorter head still could be. */
function isHttp2(head: Buffer): boolean | undefined {
  const n = Math.min(head.length, H2_PREFACE.length);
  if (!head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return false;
  return n === H2_PREFACE.length ? true : undefined;
}

/**
 * One TCP port for HTTP/2 cleartext with prior knowledge (the AWS JS SDK's default handler)
 * and HTTP/1.1 (curl, botocore, fetch): the first bytes of each connection pick the protocol
 * (`docs/bedrock-wire.md#http2-and-http11`).
 */
export function createDualListener(handler: RequestHandler): DualListener {
  const h1 = createHttpServer({ keepAliveTimeout: 65_000 }, handler);
  const h2 = createHttp2Server({ maxSessionMemory: 64 }, handler);
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  // node:http2 makes the session synchronously inside its 'connection' handler.
  let connecting: Socket | undefined;
  h2.on('session', (session: Http2Session) => {
    if (connecting) Object.assign(session, { [TCP_SOCKET]: connecting });
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  // A client that resets its stream or session is not the server's problem.
  h2.on('sessionError', () => undefined);

  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const sniff = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const h2c = isHttp2(head);
      if (h2c === undefined) return;
      socket.off('data', sniff);
      socket.pause();
      if (h2c) {
        connecting = socket;
        h2.emit('connection', new ReplaySocket(socket, head));
        connecting = undefined;
      } else {
        socket.unshift(head);
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', sniff);
  });

  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
