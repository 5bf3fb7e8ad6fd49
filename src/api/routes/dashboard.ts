import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { LiveFeed } from '../dashboard/live.js';
import { SnapshotBuilder } from '../dashboard/snapshot.js';
import type { ApiContext } from './context.js';

/** The page's folder, `ui/` at the package root (shipped with it: package.json `files`). */
const UI_DIR = new URL('../../../ui/', import.meta.url);
const require = createRequire(import.meta.url);

/** Every file the dashboard serves, by URL: a fixed list, so no path from a request reaches the disk. */
const ASSETS: Record<string, { file: () => string; type: string }> = {
  '/ui': { file: () => fileURLToPath(new URL('index.html', UI_DIR)), type: 'text/html; charset=utf-8' },
  '/ui/app.js': {
    file: () => fileURLToPath(new URL('app.js', UI_DIR)),
    type: 'text/javascript; charset=utf-8',
  },
  '/ui/app.css': { file: () => fileURLToPath(new URL('app.css', UI_DIR)), type: 'text/css; charset=utf-8' },
  // uPlot from node_modules, so the page works offline, with no CDN.
  '/ui/vendor/uplot.js': {
    file: () => require.resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/ui/vendor/uplot.css': {
    file: () => require.resolve('uplot/dist/uPlot.min.css'),
    type: 'text/css; charset=utf-8',
  },
};

/**
 * The dashboard: the page and its scripts (open to anyone: they hold no data, and the page
 * shows a login form when the API answers 401) and `GET /ui/stream`, server-sent events with
 * one snapshot a second of the models, the fleet's completions and errors per second, and the
 * recent batches (scope `read`).
 */
export function dashboardRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const cache = new Map<string, Buffer>();
  for (const [url, asset] of Object.entries(ASSETS)) {
    app.get(url, { config: { scope: 'public' }, schema: { hide: true } }, async (_req, reply) => {
      let body = cache.get(url);
      if (!body) {
        body = await readFile(asset.file());
        cache.set(url, body);
      }
      return reply
        .type(asset.type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(body);
    });
  }
  const builder = new SnapshotBuilder(ctx);
  const feed = new LiveFeed(() => builder.build(), ctx.logger);
  // Open event streams would otherwise hold the server's close until the browsers hang up.
  app.addHook('preClose', async () => feed.close());
  app.get(
    '/ui/stream',
    {
      config: { scope: 'read' },
      schema: {
        summary:
          'Dashboard: a snapshot of models, fleet series and recent batches every second (text/event-stream)',
      },
    },
    async (_req, reply) => {
      reply.hijack();
      feed.add(reply.raw);
    },
  );
}
