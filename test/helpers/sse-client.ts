import { EventEmitter, once } from 'node:events';
import { type IncomingHttpHeaders, request } from 'node:http';

/** One server-sent event as a client sees it; `data` parsed as JSON. */
export interface SseEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

export interface SseClient {
  status: number;
  headers: IncomingHttpHeaders;
  /** Every event so far, in order. */
  readonly events: readonly SseEvent[];
  /** Comment lines (heartbeats) so far. */
  readonly comments: number;
  /** Resolves with the first event (already received or coming) that matches. */
  next(match: (e: SseEvent) => boolean): Promise<SseEvent>;
  /** Resolves once at least `count` comments have arrived. */
  commented(count: number): Promise<void>;
  /** Resolves when the server ends the response. */
  readonly ended: Promise<void>;
  /** Drops the connection, as a client going away does. */
  close(): void;
}

/** Opens an event stream with node:http and parses it as EventSource would. */
export async function openEvents(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const req = request(url, { headers: { accept: 'text/event-stream', ...headers } });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const events: SseEvent[] = [];
  const emitter = new EventEmitter();
  let comments = 0;
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments++;
        const colon = line.indexOf(':');
        if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
      }
      if (fields.event !== undefined) {
        events.push({
          ...(fields.id !== undefined ? { id: fields.id } : {}),
          event: fields.event,
          data: JSON.parse(fields.data ?? 'null') as Record<string, unknown>,
        });
      }
      emitter.emit('change');
    }
  });
  const ended = new Promise<void>((resolve) => {
    res.on('end', resolve);
    res.on('close', resolve);
  });
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    events,
    get comments() {
      return comments;
    },
    async next(match) {
      for (let seen = 0; ; ) {
        const found = events.slice(seen).find(match);
        if (found) return found;
        seen = events.length;
        await Promise.race([
          once(emitter, 'change'),
          ended.then(() => Promise.reject(new Error('stream ended'))),
        ]);
      }
    },
    async commented(count) {
      while (comments < count) await once(emitter, 'change');
    },
    ended,
    close: () => req.destroy(),
  };
}
