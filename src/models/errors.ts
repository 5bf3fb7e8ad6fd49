/**
 * Every failure of a model call becomes one {@link ModelError} with one {@link ModelErrorKind};
 * the worker decides what to do from the kind alone (`docs/architecture.md#failure-kinds`).
 */

export const MODEL_ERROR_KINDS = [
  'throttled',
  'unavailable',
  'timeout',
  'context_overflow',
  'content_filtered',
  'access_denied',
  'invalid_request',
  'quota_exceeded',
  'internal',
] as const;
export type ModelErrorKind = (typeof MODEL_ERROR_KINDS)[number];

/** Kinds worth another call to the same model after a backoff. */
const RETRYABLE: ReadonlySet<ModelErrorKind> = new Set(['throttled', 'unavailable', 'timeout', 'internal']);

export interface ModelErrorDetails {
  /** The original error name, e.g. `ThrottlingException`, `ECONNRESET`, `AbortError`. */
  name?: string;
  httpStatus?: number;
  requestId?: string;
  /** From a `retry-after` header, when Bedrock sent one. */
  retryAfterMs?: number;
  modelId?: string;
  cause?: unknown;
}

export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly kind: ModelErrorKind;
  /** The name of the error this one classifies (SDK exception name, Node error code, ...). */
  readonly originalName: string | undefined;
  readonly httpStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly modelId: string | undefined;

  constructor(kind: ModelErrorKind, message: string, details: ModelErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.originalName = details.name;
    this.httpStatus = details.httpStatus;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
    this.modelId = details.modelId;
  }

  /** True when the same model may succeed on a later attempt. */
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

export function isModelError(e: unknown): e is ModelError {
  return e instanceof ModelError;
}

export function isRetryableKind(kind: ModelErrorKind): boolean {
  return RETRYABLE.has(kind);
}

/**
 * Context-length refusals. Bedrock signals them only as a ValidationException whose message
 * each family words differently (`docs/bedrock-wire.md#validation-messages`), so this and
 * {@link UNKNOWN_MODEL_MESSAGE} are the one place where a message is read: inside a
 * ValidationException, never to decide anything else (besides {@link LOST_HTTP2_STREAM}, a
 * failure the SDK gives no code to).
 */
const CONTEXT_OVERFLOW_MESSAGES: readonly RegExp[] = [
  /input is too long/i, // Bedrock's own, Claude included: "Input is too long for requested model."
  /prompt is too long/i, // Anthropic's, also wrapped by Converse: "The model returned the following errors: prompt is too long: …"
  /too many input tokens/i, // Titan: "400 Bad Request: Too many input tokens. Max input tokens: 8192, …"
  /maximum context length/i, // Llama, Mistral Large 2: "… too large for model with 131072 maximum context length"
  /exceed context limit/i, // Claude 4: "input length and `max_tokens` exceed context limit: …"
  /model_context_window_exceeded/i,
  /exceeds? the (?:model'?s? )?context (?:window|length)/i,
];

/**
 * Bedrock answers an id it does not know (a typo, a retired or unreleased model, a profile that
 * does not exist) with a ValidationException in these words. For the chain it is a model that
 * is not there, like ResourceNotFoundException: the next model may answer.
 */
const UNKNOWN_MODEL_MESSAGE = /model identifier is invalid/i;

/**
 * The SDK's HTTP/2 handler rejects a stream that closed before any response (the server reset
 * the socket, closed it after a GOAWAY, or cancelled the stream) with this message, no code and
 * no cause; named `TimeoutError` when the session is gone (so the SDK's own retries take it),
 * plain `Error` otherwise. Its real timeouts, and our aborts, reject first with
 * messages of their own, so this one always means a lost connection, never a slow model.
 */
const LOST_HTTP2_STREAM = /http2 request did not get a response/i;

/** Node/undici network error codes: the connection failed, the service may come back. */
const NETWORK_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_ERROR',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const NETWORK_TIMEOUT = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Bedrock error names (`docs/bedrock-wire.md#error-shapes`) and what they mean to the chain. */
const BY_NAME: Readonly<Record<string, ModelErrorKind>> = {
  ThrottlingException: 'throttled',
  ServiceUnavailableException: 'unavailable',
  ModelNotReadyException: 'unavailable',
  InternalServerException: 'internal',
  ModelErrorException: 'internal',
  ModelStreamErrorException: 'internal',
  ModelTimeoutException: 'timeout',
  RequestTimeout: 'timeout',
  RequestTimeoutException: 'timeout',
  TimeoutError: 'timeout',
  AccessDeniedException: 'access_denied',
  ResourceNotFoundException: 'access_denied',
  UnrecognizedClientException: 'access_denied',
  MissingAuthenticationTokenException: 'access_denied',
  ExpiredTokenException: 'access_denied',
  ServiceQuotaExceededException: 'quota_exceeded',
  ConflictException: 'invalid_request',
};

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  $response?: { headers?: Record<string, unknown> };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** `retry-after` in seconds or as an HTTP date, as milliseconds from `now`. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  const text = str(typeof value === 'number' ? String(value) : value);
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function kindOf(
  name: string | undefined,
  code: string | undefined,
  status: number | undefined,
  message: string,
): ModelErrorKind {
  if (name === 'ValidationException' || (status === 400 && !name)) {
    if (CONTEXT_OVERFLOW_MESSAGES.some((re) => re.test(message))) return 'context_overflow';
    return UNKNOWN_MODEL_MESSAGE.test(message) ? 'access_denied' : 'invalid_request';
  }
  // The network code first: the SDK's HTTP/1.1 handler renames a reset socket `TimeoutError`
  // (so its own retries take it), and a reset is a lost connection, not a slow model.
  if (code && NETWORK_TIMEOUT.has(code)) return 'timeout';
  if (code && NETWORK_UNAVAILABLE.has(code)) return 'unavailable';
  if (!code && status === undefined && LOST_HTTP2_STREAM.test(message)) return 'unavailable';
  const byName = name ? BY_NAME[name] : undefined;
  if (byName) return byName;
  if (status === 429) return 'throttled';
  if (status === 408) return 'timeout';
  if (status === 401 || status === 403 || status === 404) return 'access_denied';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  if (status !== undefined && status >= 400 && status < 500) return 'invalid_request';
  return 'internal';
}

/** `String(value)`, or its type tag when the value's own `toString` throws. */
function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export interface ClassifyContext {
  modelId?: string;
  /** Why our own signal aborted the call, when it did. */
  aborted?: 'timeout' | 'shutdown';
  now?: number;
}

/**
 * Turns anything thrown by a model call (SDK exception, Node network error, abort, a string)
 * into one {@link ModelError}. Never throws.
 */
export function classifyError(thrown: unknown, context: ClassifyContext = {}): ModelError {
  if (isModelError(thrown)) return thrown;
  const e: ErrorFields = typeof thrown === 'object' && thrown !== null ? (thrown as ErrorFields) : {};
  const name = str(e.name);
  const message =
    str(e.message) ?? (typeof thrown === 'string' ? thrown : `unexpected error: ${describe(thrown)}`);
  const details: ModelErrorDetails = { cause: thrown };
  if (name) details.name = name;
  if (context.modelId) details.modelId = context.modelId;
  const status = num(e.$metadata?.httpStatusCode);
  if (status !== undefined) details.httpStatus = status;
  const requestId = str(e.$metadata?.requestId);
  if (requestId) details.requestId = requestId;
  const retryAfterMs = parseRetryAfter(e.$response?.headers?.['retry-after'], context.now);
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;

  if (context.aborted || name === 'AbortError') {
    // An abort is ours: a per-call timeout, or shutdown handing the job back.
    const reason = context.aborted ?? 'timeout';
    return new ModelError(
      'timeout',
      reason === 'shutdown' ? 'call aborted by shutdown' : `model call timed out: ${message}`,
      {
        ...details,
        name: reason === 'shutdown' ? 'Shutdown' : (name ?? 'AbortError'),
      },
    );
  }
  return new ModelError(kindOf(name, str(e.code), status, message), message, details);
}

/** The error for an answer the model refused or a filter blocked: the chain moves on. */
export function contentFiltered(modelId: string): ModelError {
  return new ModelError('content_filtered', `model ${modelId} answered with filtered content`, {
    modelId,
    name: 'ContentFiltered',
  });
}
