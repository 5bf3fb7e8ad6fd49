import type { FastifyInstance } from 'fastify';

/** A request body the API refuses, with the status and message the caller gets. */
export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Keys that change an object's prototype when code later copies them onto another object. */
function refuseProtoKeys(key: string, value: unknown): unknown {
  if (
    key === '__proto__' ||
    (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)
  ) {
    throw new BodyError(`body: the key "${key}" is not allowed (it can alter object prototypes)`, 400);
  }
  return value;
}

/**
 * Parses JSON bodies strictly: bytes that are not UTF-8 are refused instead of being replaced
 * with U+FFFD (which would silently change ids and documents), and prototype keys get a message
 * that says so instead of "not valid JSON".
 */
export function strictJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      done(new BodyError('body: is not valid UTF-8', 400), undefined);
      return;
    }
    try {
      // The reviver costs a walk of the whole value, so it runs only when a refused key can be there.
      const suspicious = /__proto__|constructor|\\u/.test(text);
      done(null, suspicious ? JSON.parse(text, refuseProtoKeys) : JSON.parse(text));
    } catch (e) {
      done(
        e instanceof BodyError ? e : new BodyError(`body: is not valid JSON (${(e as Error).message})`, 400),
        undefined,
      );
    }
  });
}
