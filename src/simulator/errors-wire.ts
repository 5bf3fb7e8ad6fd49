import { SIM_ERRORS, type SimError, simError } from './control.js';
import { type Headers, type Reply, sendJson } from './wire.js';

/** Bedrock names its error shapes with this namespace suffix in `x-amzn-ErrorType` (`docs/bedrock-wire.md#error-wire-form`). */
const ERROR_TYPE_SUFFIX = ':http://internal.amazon.com/coral/com.amazon.bedrock/';

/**
 * An error exactly as Bedrock sends it (`docs/bedrock-wire.md#error-wire-form`): status from {@link SIM_ERRORS},
 * `x-amzn-ErrorType: <Name>:http://internal.amazon.com/coral/com.amazon.bedrock/`,
 * body `{"message": …, ...extra}`, and `retry-after` (seconds) when the error sets one.
 */
export function sendError(reply: Reply, error: SimError): void {
  const headers: Headers = { 'x-amzn-ErrorType': `${error.name}${ERROR_TYPE_SUFFIX}` };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = Math.ceil(error.retryAfterSeconds);
  sendJson(reply, SIM_ERRORS[error.name], { message: error.message, ...error.extra }, headers);
}

/** An error the SDKs know by name though Bedrock does not model it (403 without credentials, 404 path). */
export function sendRawError(reply: Reply, status: number, name: string, message: string): void {
  sendJson(reply, status, { message }, { 'x-amzn-ErrorType': name });
}

/** Bedrock's answer to a request without an `Authorization` header. */
export function sendMissingAuth(reply: Reply): void {
  sendRawError(reply, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
}

/**
 * A prompt longer than the context window, in the family's words (`docs/bedrock-wire.md#validation-messages`): Claude's
 * own text (wrapped by Converse), the plain Bedrock text for the others.
 */
export function contextLengthError(
  family: string,
  converse: boolean,
  inputTokens: number,
  contextWindow: number,
): SimError {
  if (family !== 'anthropic')
    return simError('ValidationException', 'Input is too long for requested model.');
  const text = `prompt is too long: ${inputTokens} tokens > ${contextWindow} maximum`;
  return simError(
    'ValidationException',
    converse ? `The model returned the following errors: ${text}` : text,
  );
}

/** Exceptions each stream's event union models (`docs/bedrock-wire.md#errors-inside-a-stream`); others cannot be sent as such. */
const STREAM_EXCEPTIONS: Readonly<Record<'invoke' | 'converse', ReadonlySet<string>>> = {
  invoke: new Set([
    'InternalServerException',
    'ModelStreamErrorException',
    'ValidationException',
    'ThrottlingException',
    'ModelTimeoutException',
    'ServiceUnavailableException',
  ]),
  converse: new Set([
    'InternalServerException',
    'ModelStreamErrorException',
    'ValidationException',
    'ThrottlingException',
    'ServiceUnavailableException',
  ]),
};

/**
 * The exception a stream can carry for `error`: itself when the stream's union models it,
 * otherwise a ModelStreamErrorException holding the original status and message (the SDKs
 * would turn an unmodelled member into an anonymous error).
 */
export function inStreamError(error: SimError, stream: 'invoke' | 'converse'): SimError {
  if (STREAM_EXCEPTIONS[stream].has(error.name)) return error;
  return simError('ModelStreamErrorException', error.message, {
    originalStatusCode: SIM_ERRORS[error.name],
    originalMessage: error.message,
  });
}
