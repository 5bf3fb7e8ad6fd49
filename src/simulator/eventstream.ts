import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import type { SimError } from './control.js';

const codec = new EventStreamCodec(
  (bytes) => Buffer.from(bytes).toString('utf8'),
  (text) => Buffer.from(text, 'utf8'),
);

/** Real Bedrock pads event payloads with a prefix of this alphabet to hide token lengths. */
const PAD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const str = (value: string) => ({ type: 'string' as const, value });

function frame(headers: MessageHeaders, payload: unknown): Uint8Array {
  return codec.encode({ headers, body: Buffer.from(JSON.stringify(payload), 'utf8') });
}

/** An InvokeModelWithResponseStream `chunk` event carrying one native chunk JSON. */
export function chunkEvent(nativeChunk: unknown, padLength: number): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(nativeChunk), 'utf8').toString('base64');
  return frame(
    { ':message-type': str('event'), ':event-type': str('chunk'), ':content-type': str('application/json') },
    { bytes, p: PAD.slice(0, padLength % PAD.length) },
  );
}

/** A ConverseStream event (`messageStart`, `contentBlockDelta`, ...), payload not wrapped. */
export function converseEvent(type: string, payload: Record<string, unknown>, padLength: number): Uint8Array {
  return frame(
    { ':message-type': str('event'), ':event-type': str(type), ':content-type': str('application/json') },
    { ...payload, p: PAD.slice(0, padLength % PAD.length) },
  );
}

/** A modeled exception inside a stream: `:exception-type` is the lower-camel member name. */
export function exceptionEvent(error: SimError): Uint8Array {
  const member = error.name.charAt(0).toLowerCase() + error.name.slice(1);
  return frame(
    {
      ':message-type': str('exception'),
      ':exception-type': str(member),
      ':content-type': str('application/json'),
    },
    { message: error.message, ...error.extra },
  );
}

/** Decodes one frame; used by tests to read what the simulator sent. */
export function decodeFrame(bytes: Uint8Array): { headers: Record<string, string>; body: unknown } {
  const message = codec.decode(bytes);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v.value);
  return { headers, body: JSON.parse(Buffer.from(message.body).toString('utf8')) };
}
