import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver answers to its `n`th request (1-based): a status, or `hang` (never answers). */
export type Answer = (n: number, request: Received) => number | 'hang';

export interface Receiver {
  /** `http://127.0.0.1:<port>/hook` */
  readonly url: string;
  readonly requests: readonly Received[];
  /** Resolves once `count` requests have arrived. */
  received(count: number): Promise<readonly Received[]>;
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>;
}

/** A callback receiver on 127.0.0.1 (node:http) that records every request. */
export async function startReceiver(answer: Answer = () => 204): Promise<Receiver> {
  const requests: Received[] = [];
  const events = new EventEmitter();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      const status = answer(requests.length, request);
      if (status !== 'hang') res.writeHead(status).end();
      events.emit('request');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    async received(count) {
      while (requests.length < count) await once(events, 'request');
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
