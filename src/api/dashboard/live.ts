import type { ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import { sseEvent } from '../sse.js';
import type { DashboardSnapshot } from './snapshot.js';

/** How often a snapshot is pushed. */
export const LIVE_INTERVAL_MS = 1_000;

/**
 * Pushes one snapshot a second to every open `text/event-stream` response, from one build
 * per tick however many browsers watch; the timer runs only while someone does.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private building = false;
  private closed = false;

  constructor(
    private readonly build: () => Promise<DashboardSnapshot>,
    private readonly logger?: Logger,
  ) {}

  /** Starts the event stream on `res`: a `snapshot` event now, then every tick until it closes. */
  add(res: ServerResponse): void {
    if (this.closed) {
      res.end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold the events back.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    this.timer ??= setInterval(() => void this.tick(), LIVE_INTERVAL_MS).unref();
    void this.tick();
  }

  /** Open streams (tests). */
  get size(): number {
    return this.clients.size;
  }

  /** Whether the timer runs: only while a stream is open. */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  /** Ends every stream and stops the timer; for the server's close. */
  close(): void {
    this.closed = true;
    this.stop();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    // A slow Redis must not pile builds up: a tick that finds one running is skipped.
    if (this.building || this.clients.size === 0) return;
    this.building = true;
    try {
      const frame = sseEvent('snapshot', await this.build());
      for (const res of this.clients) res.write(frame);
    } catch (err) {
      this.logger?.warn({ err }, 'dashboard snapshot failed');
      const frame = sseEvent('problem', { error: 'snapshot failed; retrying' });
      for (const res of this.clients) res.write(frame);
    } finally {
      this.building = false;
    }
  }
}
