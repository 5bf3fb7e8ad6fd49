import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import type { SimError } from './control.js';

// Buffer's UTF-8 is what @smithy/util-utf8 does on Node; that package is not installed here.
const toUtf8 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
const fromUtf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/** Frames and CRCs of the `application/vnd.amazon.eventstream` format (`docs/bedrock-wire.md#event-streams`). */
const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** Real Bedrock pads event payloads with a prefix of this alphabet to hide token lengths (`docs/bedrock-wire.md#event-streams`). */
const PAD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const str = (value: string) => ({ type: 'string' as const, value });

const CHUNK_HEADERS: MessageHeaders = {
  ':event-type': str('chunk'),
  ':content-type': str('application/json'),
  ':message-type': str('event'),
};

const eventHeaders = new Map<string, MessageHeaders>();
function headersFor(eventType: string): MessageHeaders {
  let headers = eventHeaders.get(eventType);
  if (!headers) {
    headers = {
      ':event-type': str(eventType),
      ':content-type': str('application/json'),
      ':message-type': str('event'),
    };
    eventHeaders.set(eventType, headers);
  }
  return headers;
}

const padding = (n: number): string => PAD.slice(0, 1 + (n % PAD.length));

function frame(headers: MessageHeaders, json: string): Uint8Array {
  return codec.encode({ headers, body: fromUtf8(json) });
}

/**
 * An InvokeModelWithResponseStream `chunk` event: payload `{"bytes":"<base64 of the native
 * chunk JSON>","p":"<padding>"}`.
 * @param n the chunk's position, which sets the padding length
 */
export function chunkEvent(nativeChunk: unknown, n: number): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(nativeChunk), 'utf8').toString('base64');
  return frame(CHUNK_HEADERS, `{"bytes":"${bytes}","p":"${padding(n * 7)}"}`);
}

/** A ConverseStream event (`messageStart`, `contentBlockDelta`, ...): the payload is the event itself. */
export function converseEvent(eventType: string, payload: Record<string, unknown>, n: number): Uint8Array {
  return frame(headersFor(eventType), JSON.stringify({ ...payload, p: padding(n * 5) }));
}

/** `ModelStreamErrorException` → `modelStreamErrorException`: the union member name of an in-stream error. */
export const exceptionMember = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

/**
 * A modelled exception inside a stream (`docs/bedrock-wire.md#errors-inside-a-stream`): `:message-type: exception`,
 * `:exception-type` the lower-camel member name, payload `{ message, ...extra }`.
 */
export function exceptionEvent(error: SimError): Uint8Array {
  return frame(
    {
      ':exception-type': str(exceptionMember(error.name)),
      ':content-type': str('application/json'),
      ':message-type': str('exception'),
    },
    JSON.stringify({ message: error.message, ...error.extra }),
  );
}

/** One decoded frame: string headers and the payload parsed as JSON. */
export interface DecodedFrame {
  headers: Record<string, string>;
  body: unknown;
}

/** Decodes one frame (CRCs checked); tests use it to read what the simulator sent. */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  const message = codec.decode(bytes);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v.value);
  const text = toUtf8(message.body);
  return { headers, body: text.length > 0 ? JSON.parse(text) : undefined };
}

/** Splits a whole event-stream body into frames by their length prefixes and decodes each. */
export function decodeStream(bytes: Uint8Array): DecodedFrame[] {
  const frames: DecodedFrame[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 4 <= bytes.length) {
    const length = view.getUint32(at);
    frames.push(decodeFrame(bytes.subarray(at, at + length)));
    at += length;
  }
  return frames;
}
