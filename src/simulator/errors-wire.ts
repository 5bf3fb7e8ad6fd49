import { providerRefusal, SIM_ERRORS, type SimError, simError } from './control.js';
import { exceptionEvent } from './eventstream.js';
import { endStream, type Headers, type Reply, sendJson, startStream } from './wire.js';

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

/** What {@link contextLengthError} needs to word the refusal as the called model does. */
export interface ContextRefusal {
  family: string;
  /** Mistral: the body forms the model takes; Mistral Large 2 (chat only) words it its own way. */
  nativeBody?: 'prompt' | 'chat' | 'both';
  converse: boolean;
  inputTokens: number;
  contextWindow: number;
}

/**
 * A prompt longer than the context window, in the called model's words
 * (`docs/bedrock-wire.md#validation-messages`): Claude's is Bedrock's plain text (wrapped by
 * Converse, and raised by Anthropic, so a response stream carries it in-stream); Titan, Llama
 * and Mistral Large 2 name the limit and the count; the others use Bedrock's plain text.
 */
export function contextLengthError(c: ContextRefusal): SimError {
  const plain = 'Input is too long for requested model.';
  switch (c.family) {
    case 'anthropic':
      return c.converse
        ? simError('ValidationException', `The model returned the following errors: ${plain}`)
        : providerRefusal(plain);
    case 'titan':
      // The trailing space is the service's.
      return simError(
        'ValidationException',
        `400 Bad Request: Too many input tokens. Max input tokens: ${c.contextWindow}, request input token count: ${c.inputTokens} `,
      );
    case 'llama':
      return simError(
        'ValidationException',
        `This model's maximum context length is ${c.contextWindow} tokens. Please reduce the length of the prompt`,
      );
    case 'mistral':
      if (c.nativeBody === 'chat')
        return simError(
          'ValidationException',
          `Prompt contains ${c.inputTokens} tokens and 0 draft tokens, too large for model with ${c.contextWindow} maximum context length`,
        );
      return simError('ValidationException', plain);
    default:
      return simError('ValidationException', plain);
  }
}

/**
 * A refusal from the model provider on InvokeModelWithResponseStream: Bedrock has already
 * answered 200 and started the stream, so the error is its only event
 * (`docs/bedrock-wire.md#errors-inside-a-stream`).
 */
export function sendStreamRefusal(reply: Reply, error: SimError): void {
  startStream(reply, { 'X-Amzn-Bedrock-Content-Type': 'application/json' });
  endStream(reply, exceptionEvent(error));
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
