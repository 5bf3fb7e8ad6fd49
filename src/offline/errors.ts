import {
  AccessDeniedException,
  BedrockServiceException,
  ConflictException,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-bedrock';

/**
 * Why a step of the offline lane did not happen, in one word:
 * - `not_configured`: no bucket or role ARN; the batch runs online;
 * - `refused`: Bedrock refused the invocation job for good (validation, access, unknown model);
 *   its calls run online;
 * - `unavailable`: a call failed in a way that may pass (throttling, a quota of concurrent jobs,
 *   the network); the step is tried again at the next look.
 */
export type OfflineErrorKind = 'not_configured' | 'refused' | 'unavailable';

/** A failed step of the offline lane, with its kind; `cause` keeps what the SDK threw. */
export class OfflineLaneError extends Error {
  override readonly name = 'OfflineLaneError';
  constructor(
    readonly kind: OfflineErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for an {@link OfflineLaneError}, whatever realm it came from. */
export function isOfflineLaneError(e: unknown): e is OfflineLaneError {
  return e instanceof OfflineLaneError;
}

/** What a control-plane call about invocation jobs threw, by the SDK's exception classes. */
export function invocationFailure(e: unknown, what: string): OfflineLaneError {
  const refused =
    e instanceof ValidationException ||
    e instanceof AccessDeniedException ||
    e instanceof ResourceNotFoundException ||
    e instanceof ConflictException;
  const detail = e instanceof BedrockServiceException ? `${e.name}: ${e.message}` : String(e);
  return new OfflineLaneError(refused ? 'refused' : 'unavailable', `${what} failed (${detail})`, {
    cause: e,
  });
}
