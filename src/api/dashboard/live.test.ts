import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { LiveFeed } from './live.js';
import type { DashboardSnapshot } from './snapshot.js';

const snapshot: DashboardSnapshot = { at: 1, models: [], series: [], batches: [] };

describe('LiveFeed', () => {
  it('sends a snapshot event at once, and forgets a browser that hangs up, stopping its timer', async () => {
    const feed = new LiveFeed(async () => snapshot);
    const server = createServer((_req, res) => feed.add(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const first = await new Promise<{ text: string; hangUp: () => void }>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
            if (/event: snapshot\ndata: .*\n\n/.test(text)) {
              resolve({ text, hangUp: () => req.destroy() });
            }
          });
        });
        req.on('error', reject);
        req.end();
      });
      expect(feed.size).toBe(1);
      expect(feed.ticking).toBe(true);

      first.hangUp();

      expect(first.text).toContain(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
      await vi.waitFor(() => expect(feed.size).toBe(0), { timeout: 10_000 });
      expect(feed.ticking).toBe(false);
    } finally {
      feed.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
