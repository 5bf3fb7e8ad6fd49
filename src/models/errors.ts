/**
 * Every failure of a model call becomes one {@link ModelError} with one {@link ModelErrorKind};
 * the worker decides what to do from the kind alone (DESIGN.md "Error kinds").
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
