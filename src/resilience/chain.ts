import type { ModelApi } from '../bedrock/types.js';
import { type Clock, systemClock } from '../clock.js';
import type { ResolvedModel } from '../models/catalog.js';
import type { ModelReply, ModelRequest } from '../models/request.js';
import { SECOND } from '../units.js';
import type { AttemptOutcome, AttemptRecord } from './attempt.js';
import {
  AllModelsBusyError,
  ChainAbortedError,
  ChainExhaustedError,
  InvalidJobError,
  PolicyFailure,
} from './errors.js';
import type { ResilienceEmitter } from './events.js';
import type { ModelPolicy } from './policy.js';
import type { RateLimiter } from './ratelimit.js';
import { wakeWhenAvailable } from './wake.js';

/** Where the chain finds the policy of each model (a {@link PolicyRegistry} in production). */
export interface PolicySource {
  for(model: ResolvedModel): ModelPolicy;
}

export interface ChainInput {
  /** The models to try, in order. */
  models: readonly ResolvedModel[];
  request: ModelRequest;
  api: ModelApi;
  /** The job's signal (shutdown). */
  signal?: AbortSignal;
  policies: PolicySource;
  limiter?: RateLimiter;
  /**
   * Whether a busy model is left for the next one (default) or waited for; the last model of
   * the chain is always waited for. See {@link ExecuteOptions.spill}.
   */
  spill?: boolean;
  /**
   * Re-shapes the request for one model (e.g. a smaller context window), or `'skip'` when
   * the model cannot take it; a skip is recorded as `context_overflow` without a call.
   */
  prepare?: (model: ResolvedModel) => ModelRequest | 'skip';
  /** The wait reported when every model is busy and none said for how long. Default 1 s. */
  busyWaitMs?: number;
  /** Defaults to none; pass the breakers' bus to see `fallback` events. */
  events?: ResilienceEmitter;
  /** Times the wake-ups of a job waiting on a later model (default: the real clock). */
  clock?: Clock;
  /**
   * A job waiting for a far slot on a later model while an earlier one's breaker is open looks
   * at the earlier one again at least this often (the fleet breaker's refresh). Default 500 ms.
   */
  recheckMs?: number;
}

export interface ChainResult {
  reply: ModelReply;
  /** The model that served the job, as sent to Bedrock. */
  modelId: string;
  attempts: AttemptRecord[];
  /** True when a model other than the first served the job. */
  fellBack: boolean;
}

/** Outcomes that mean "busy now, fine later": waiting is better than failing the job. */
const BUSY: ReadonlySet<AttemptOutcome> = new Set(['throttled', 'circuit_open', 'rate_limited']);

interface ModelFailure {
  outcome: Exclude<AttemptOutcome, 'ok'>;
  retryAfterMs: number | undefined;
  error: unknown;
  /** It gave its slot back to try an earlier model again. */
  woken?: boolean;
}

/** How many times one job may go back to the head of its chain from a patient wait. */
const MAX_WAKES = 16;

/**
 * Runs a request down a fallback chain (`docs/architecture.md#failure-kinds`). Each model is called
 * through its policy, which retries `throttled`, `unavailable`, `timeout` and `internal`
 * and refuses at once when the model's circuit is open. The chain then moves on after
 * exhausted retries, an open circuit, `access_denied`, `context_overflow`,
 * `content_filtered` and `quota_exceeded`, and stops at once on `invalid_request`.
 * @throws InvalidJobError when a model says the request itself is invalid.
 * @throws AllModelsBusyError when some model is only busy (throttled, rate-limited or open) and
 *   none answered; without spill, only when every model was busy.
 * @throws ChainExhaustedError when every model failed and some for another reason.
 * @throws ChainAbortedError when the job's signal aborted.
 */
export async function runChain(input: ChainInput): Promise<ChainResult> {
  const attempts: AttemptRecord[] = [];
  const first = input.models[0];
  const spill = input.spill ?? true;

  /** One model through its policy: its answer, or the failure that moves the chain on. */
  const attempt = async (
    model: ResolvedModel,
    spills: boolean,
    wake?: AbortSignal,
  ): Promise<ChainResult | ModelFailure> => {
    if (input.signal?.aborted) throw new ChainAbortedError(attempts);
    const request = input.prepare ? input.prepare(model) : input.request;
    if (request === 'skip') {
      const message = `request does not fit ${model.requestId}; skipped without a call`;
      attempts.push({ modelId: model.requestId, outcome: 'context_overflow', message, latencyMs: 0 });
      return { outcome: 'context_overflow', retryAfterMs: undefined, error: new Error(message) };
    }
    try {
      const result = await input.policies.for(model).execute(model, request, {
        api: input.api,
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.limiter ? { limiter: input.limiter } : {}),
        ...(wake ? { wake } : {}),
        spill: spills,
      });
      attempts.push(...result.attempts);
      return { reply: result.reply, modelId: model.requestId, attempts, fellBack: model !== first };
    } catch (e) {
      if (!(e instanceof PolicyFailure)) throw e; // infrastructure (e.g. Redis down): the job's attempts decide
      attempts.push(...e.attempts);
      if (e.details.aborted || input.signal?.aborted) throw new ChainAbortedError(attempts);
      if (e.outcome === 'invalid_request') {
        throw new InvalidJobError(`${model.requestId} refused the request: ${e.message}`, attempts, {
          cause: e,
        });
      }
      return {
        outcome: e.outcome,
        retryAfterMs: e.details.retryAfterMs,
        error: e,
        woken: e.details.woken === true,
      };
    }
  };

  let failures: (ModelFailure & { model: ResolvedModel })[] = [];
  for (let round = 0; ; round++) {
    failures = [];
    for (const [i, model] of input.models.entries()) {
      // Without a limiter to say when a slot comes, the last model waits out its throttles.
      const spills = spill && (i < input.models.length - 1 || input.limiter !== undefined);
      const outcome = await attempt(model, spills);
      if ('reply' in outcome) return outcome;
      failures.push({ ...outcome, model });
      const next = input.models[i + 1];
      // A job back at the head of its chain after a wake-up is not a new fallback.
      if (next && round === 0)
        input.events?.emit('fallback', {
          from: model.requestId,
          to: next.requestId,
          outcome: outcome.outcome,
        });
    }
    // Nobody answered on the quick pass. Before giving the job back, one patient try: the
    // model whose fleet slot comes first (waiting on one lane would starve the others), else the
    // first model that failed for being unwell, with its retries and backoff.
    const patient = spill ? patientRetry(failures) : undefined;
    if (!patient) break;
    // While it waits for a later model's slot, an earlier model whose breaker was open may
    // come back: the job then gives the slot back and starts again from the head of its chain.
    const before = failures.slice(0, failures.indexOf(patient)).filter((f) => f.outcome === 'circuit_open');
    const wake =
      patient.outcome === 'rate_limited' && before.length > 0 && round < MAX_WAKES
        ? wakeWhenAvailable({
            clock: input.clock ?? systemClock,
            models: before.map((f) => ({ modelId: f.model.requestId, retryAfterMs: f.retryAfterMs })),
            recheckMs: input.recheckMs ?? SECOND / 2,
            ...(input.events ? { events: input.events } : {}),
          })
        : undefined;
    const outcome = await attempt(patient.model, false, wake?.signal).finally(() => wake?.dispose());
    if ('reply' in outcome) return outcome;
    if (outcome.woken) continue;
    failures.push({ ...outcome, model: patient.model });
    break;
  }
  // A model that is only busy will take the job later, whatever the others said: the job waits
  // for it rather than failing (with spill; without, only when every model was busy).
  const busy = failures.filter((f) => BUSY.has(f.outcome));
  if (busy.length > 0 && (spill || busy.length === failures.length)) {
    throw new AllModelsBusyError(busyWait(busy, input.busyWaitMs ?? SECOND), attempts);
  }
  throw new ChainExhaustedError(attempts, failures.at(-1)?.error);
}

const UNWELL: ReadonlySet<AttemptOutcome> = new Set(['unavailable', 'timeout', 'internal']);

/**
 * The model a chain that swept past every model gives one patient try: the one refused only for
 * the fleet's pace whose slot comes first, else the first that failed for being unwell (a
 * throttle is not retried: the job goes back to the queue until a slot comes).
 */
function patientRetry<F extends ModelFailure & { model: ResolvedModel }>(
  failures: readonly F[],
): F | undefined {
  let earliest: F | undefined;
  for (const f of failures) {
    if (f.outcome !== 'rate_limited') continue;
    const wait = f.retryAfterMs ?? Number.POSITIVE_INFINITY;
    if (!earliest || wait < (earliest.retryAfterMs ?? Number.POSITIVE_INFINITY)) earliest = f;
  }
  return earliest ?? failures.find((f) => UNWELL.has(f.outcome));
}

/** The shortest wait any busy model named, else the default; at least 1 ms. */
function busyWait(failures: readonly ModelFailure[], fallbackMs: number): number {
  const named = failures.map((f) => f.retryAfterMs).filter((ms): ms is number => ms !== undefined && ms > 0);
  return Math.max(1, named.length > 0 ? Math.min(...named) : fallbackMs);
}
