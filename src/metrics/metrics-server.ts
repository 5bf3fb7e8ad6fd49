import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsServerOptions {
  /** Address to listen on (`worker.metricsHost`). */
  host: string;
  /** Port to listen on (`worker.metricsPort`); 0 picks a free one. */
  port: number;
  contentType: string;
  /** The exposition text, made at each scrape. */
  render: () => Promise<string>;
  /** Told when a scrape fails to render (the scraper gets a 500). */
  onError?: (err: unknown) => void;
}

export interface MetricsServer {
  /** `http://host:port/metrics`, with the port actually bound. */
  readonly url: string;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * A plain HTTP server with one route, `GET /metrics`, for a Prometheus scraper. Anything else
 * gets 404 (another path) or 405 (another method); nothing else of the worker is reachable.
 */
export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: only GET /metrics is served\n');
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    o.render().then(
      (text) => res.writeHead(200, { 'content-type': o.contentType }).end(text),
      (err: unknown) => {
        o.onError?.(err);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  server.listen(o.port, o.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/metrics`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
