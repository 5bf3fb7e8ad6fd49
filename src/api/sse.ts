/** Server-sent events: framing and the stream ids used as event ids. */

/** A Redis stream id, `<ms>-<seq>`: what `Last-Event-ID` must look like. */
export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** Orders two stream ids as Redis does (by ms, then sequence): negative, 0 or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The later of two stream ids. */
export function maxStreamId(a: string, b: string): string {
  return compareStreamIds(a, b) >= 0 ? a : b;
}

/**
 * One event on the wire. `data` is JSON on one line (JSON.stringify escapes line breaks inside
 * strings), so it needs a single `data:` field. Without `id`, the client keeps its last one.
 */
export function sseEvent(event: string, data: unknown, id?: string): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: ignored by clients, it keeps proxies from closing an idle stream. */
export const SSE_HEARTBEAT = ': ping\n\n';
