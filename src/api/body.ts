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
 * Parses one JSON text strictly: prototype keys get a message that says so instead of being
 * copied along. `where` starts the message (`body`, `line 12`).
 * @throws BodyError (400).
 */
export function parseJsonText(text: string, where: string): unknown {
  try {
    // The reviver costs a walk of the whole value, so it runs only when a refused key can be there.
    const suspicious = /__proto__|constructor|\\u/.test(text);
    return suspicious ? JSON.parse(text, refuseProtoKeys) : JSON.parse(text);
  } catch (e) {
    if (e instanceof BodyError) throw new BodyError(e.message.replace(/^body:/, `${where}:`), 400);
    throw new BodyError(`${where}: is not valid JSON (${(e as Error).message})`, 400);
  }
}

/** Decodes UTF-8 strictly. @throws BodyError (400) naming `where` for bytes that are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BodyError(`${where}: is not valid UTF-8`, 400);
  }
}

/**
 * Parses JSON bodies strictly: bytes that are not UTF-8 are refused instead of being replaced
 * with U+FFFD (which would silently change ids and documents), and prototype keys get a message
 * that says so instead of "not valid JSON".
 */
export function strictJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    try {
      done(null, parseJsonText(decodeUtf8(body, 'body'), 'body'));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** Largest form body: the login form holds one token. */
const FORM_LIMIT_BYTES = 8 * 1024;

/** Parses `application/x-www-form-urlencoded` bodies (the login form) into an object of strings. */
export function formBodies(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit: FORM_LIMIT_BYTES },
    (_req, body: Buffer, done) => {
      try {
        done(null, Object.fromEntries(new URLSearchParams(decodeUtf8(body, 'body'))));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
}

/**
 * Hands bodies of `contentType` to the route as the request stream itself, unread, so the
 * route can parse them as they arrive (NDJSON batches). `api.bodyLimitBytes` does not apply:
 * such a route bounds what it holds itself.
 */
export function streamedBodies(app: FastifyInstance, contentType: string): void {
  app.addContentTypeParser(contentType, (_req, payload, done) => done(null, payload));
}
