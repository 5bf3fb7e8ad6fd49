import type { BatchPlan } from './batch-faults.js';
import type { BatchLimits, BatchTiming } from './batch-profile.js';

/**
 * The seam between the simulator's wire side (server, routes, native formats) and its
 * behaviour side (quotas, latency, faults, profiles, stats). The wire side asks these
 * questions for every Bedrock call; the behaviour side answers them.
 */

/** Bedrock error shapes the simulator answers with (`docs/bedrock-wire.md#error-shapes`). */
export const SIM_ERRORS = {
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ModelStreamErrorException: 424,
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  ConflictException: 400,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
} as const;
export type SimErrorName = keyof typeof SIM_ERRORS;

/** An error answer: HTTP status from {@link SIM_ERRORS}, `x-amzn-ErrorType: name`, body `{ message, ...extra }`. */
export interface SimError {
  name: SimErrorName;
  message: string;
  /** Extra body members, e.g. `originalStatusCode` for ModelErrorException. */
  extra?: Record<string, unknown>;
  /** Sent as a `retry-after` header (seconds) when set. */
  retryAfterSeconds?: number;
  /**
   * Set when the model provider's own validator refuses the request (Anthropic's), not
   * Bedrock's: a response stream then answers 200 and carries it as an exception event
   * (`docs/bedrock-wire.md#errors-inside-a-stream`).
   */
  fromProvider?: true;
}

export function simError(name: SimErrorName, message: string, extra?: Record<string, unknown>): SimError {
  return extra ? { name, message, extra } : { name, message };
}

/** A ValidationException worded and raised by the model provider behind Bedrock (Anthropic). */
export function providerRefusal(message: string): SimError {
  return { name: 'ValidationException', message, fromProvider: true };
}

export type SimOperation = 'invoke' | 'invoke-stream' | 'converse' | 'converse-stream' | 'count-tokens';

/** One Bedrock call as the behaviour side sees it. */
export interface CallContext {
  /** The id as it arrived in the path, URL-decoded (base id, profile id or ARN). */
  modelId: string;
  /** Foundation model id behind it. */
  baseId: string;
  /** Geo prefix of a cross-region profile (its quota is separate and larger). */
  geo?: string;
  operation: SimOperation;
  inputTokens: number;
  /** The body's max output tokens (or the family default): reserved up front against TPM. */
  maxOutputTokens: number;
  /** All prompt text, for content-filter rules. Never logged. */
  promptText: string;
}

/** A granted quota reservation, returned to {@link SimulatorControl.settle} after the call. */
export interface Reservation {
  key: string;
  reservedTokens: number;
}

export type Admission = { ok: true; reservation: Reservation } | { ok: false; error: SimError };

/** What to do to this call instead of (or on top of) answering it normally. */
export type FaultDecision =
  | { type: 'none' }
  /** Answer with this error instead of a result. */
  | { type: 'error'; error: SimError }
  /** Accept and never answer (`afterMs` undefined), or answer normally after `afterMs` (scaled). */
  | { type: 'hang'; afterMs?: number }
  /** Answer, but as content filtered (Titan CONTENT_FILTERED, Nova/Converse content_filtered, ...). */
  | { type: 'content_filter' }
  /** Stream, but this many times slower per chunk. */
  | { type: 'slow_stream'; factor: number }
  /** Stream this many chunks, then an exception event and the end of the stream. */
  | { type: 'break_stream'; afterChunks: number; exception: SimError };

/** Per-model facts that a profile may change. */
export interface ModelState {
  /** False when the profile marks the model not offered here: ResourceNotFoundException. */
  available: boolean;
  /** False when the profile marks the model not enabled: AccessDeniedException. */
  enabled: boolean;
  contextWindow: number;
  maxOutputTokens: number;
  firstTokenMs: number;
  tokensPerSecond: number;
}

export type CallOutcome = 'ok' | 'throttled' | 'fault' | 'client_error';

/** One model invocation job as the behaviour side sees it. */
export interface BatchJobContext {
  /** The model id as given to CreateModelInvocationJob (base id, profile id or ARN). */
  modelId: string;
  baseId: string;
  geo?: string;
  jobName: string;
}

/** How a job ended, or that it was created, for the stats. */
export type BatchJobEvent = 'created' | 'Completed' | 'PartiallyCompleted' | 'Failed' | 'Stopped' | 'Expired';

/**
 * The behaviour side's answers about model invocation jobs (batch inference): quotas, timing,
 * faults and stats. Optional on the seam: without it, jobs run with Bedrock's default quotas,
 * the default timing at time scale 1, no faults and no stats.
 */
export interface BatchControl {
  /** Simulated time runs this many times faster than the clock. */
  timeScale: number;
  timing: BatchTiming;
  /** The model's batch quotas (base id). */
  limits(baseId: string): BatchLimits;
  /** Decides, when a job is created, what the faults in force do to it. */
  plan(job: BatchJobContext): BatchPlan;
  /** Counts a job created or ended, by its model key (`<geo>.<base id>` or the base id). */
  job(key: string, event: BatchJobEvent): void;
  /** Counts records answered by a job of the model key. */
  records(
    key: string,
    counts: { ok: number; errors: number; inputTokens: number; outputTokens: number },
  ): void;
}

export interface SimulatorControl {
  /**
   * Per-model facts (catalog defaults with profile overrides), undefined for a model it does
   * not know (ValidationException: the identifier is invalid).
   */
  model(baseId: string): ModelState | undefined;
  /** RPM/TPM admission: charges one request and `inputTokens + maxOutputTokens` up front. */
  admit(ctx: CallContext): Admission;
  /** Corrects the TPM charge once the real output count is known. */
  settle(reservation: Reservation, actualTokens: number): void;
  /** Faults from the profile, schedules and the admin API, decided per call (seeded random). */
  fault(ctx: CallContext): FaultDecision;
  /** Real milliseconds to wait before the first token and between tokens, time scale applied. */
  latency(ctx: CallContext, outputTokens: number): { firstTokenMs: number; perTokenMs: number };
  /** Counts one finished call for `/_sim/stats`. */
  record(ctx: CallContext, outcome: CallOutcome, usage: { inputTokens: number; outputTokens: number }): void;
  /** Model invocation jobs: quotas, timing, faults, stats. */
  batch?: BatchControl;
}
