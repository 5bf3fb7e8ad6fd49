import {
  type BulkheadPolicy,
  bulkhead,
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isTaskCancelledError,
} from 'cockatiel';
import { z } from 'zod';
import type { ModelApi, ModelClient } from '../bedrock/types.js';
import type { Clock } from '../clock.js';
import { type Config, LimiterSettingsSchema, type PolicyConfig, policyFor, SECOND } from '../config.js';
import { apiFor, type ResolvedModel } from '../models/catalog.js';
import { classifyError, isRetryableKind, type ModelErrorKind } from '../models/errors.js';
import { parseModelId } from '../models/model-id.js';
import type { ModelReply, ModelRequest } from '../models/request.js';
import type { Random } from '../random.js';
import type { AttemptOutcome, AttemptRecord } from './attempt.js';
import { nextDelayMs } from './backoff.js';
import { type BreakerRegistry, countsAgainstHealth, type ModelBreaker } from './breaker.js';
import { callWithTimeout } from './call.js';
import { PolicyFailure } from './errors.js';
import type { BookkeepingStep, ResilienceEmitter } from './events.js';
import type { FleetBreakers } from './fleet-breaker.js';
import { type RateLimiter, reservationTokens } from './ratelimit.js';

export interface PolicyResult {
  reply: ModelReply;
  attempts: AttemptRecord[];
}

/** Settings of the policy's shell that are not per-model config. */
const PolicyRuntimeSchema = z
  .object({
    maxWaitMs: z
      .number()
      .int()
      .nonnegative()
      .default(5 * SECOND)
      .describe('longest wait for the fleet rate limiter when the job may not spill to the next model'),
    spillWaitMs: LimiterSettingsSchema.shape.spillWaitMs,
    queueSize: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('bulkhead queue per model; default maxConcurrent, beyond it calls spill to the next model'),
  })
  .strict();
export type PolicyRuntime = z.infer<typeof PolicyRuntimeSchema>;

export interface ModelPolicyOptions {
  modelId: string;
  config: PolicyConfig;
  client: ModelClient;
  breaker: ModelBreaker;
  clock: Clock;
  rand: Random;
  events?: ResilienceEmitter;
  runtime?: Partial<PolicyRuntime>;
  /** Breaker state shared by the fleet; without it the local breaker decides alone. */
  fleet?: FleetBreakers;
}

export interface ExecuteOptions {
  api: ModelApi;
  /** The job's signal: aborts sleeps and the call in flight (shutdown). */
  signal?: AbortSignal;
  /** The fleet-wide rate limiter, when the worker uses one. */
  limiter?: RateLimiter;
  /**
   * True: a model with no slot within `spillWaitMs`, or one that fails a call (throttled,
   * unavailable, timed out), is left at once for the next model of the chain (the chain passes
   * true unless the job's chain says otherwise, or the model is its last).
   * False or absent: the job waits for this model (`maxWaitMs`) and retries with backoff.
   */
  spill?: boolean;
  /**
   * Ends the wait for a limiter slot (the slot goes back to the fleet) when the chain has a
   * better model to try: the failure then says `woken`. A call once started is not stopped.
   */
  wake?: AbortSignal;
}

type Try = { ok: true; reply: ModelReply } | { ok: false; failure: PolicyFailure; retryable: boolean };

/** What one call of {@link ModelPolicy} carries from before it to what follows it. */
interface CallContext {
  limiter: RateLimiter | undefined;
  /** Fleet tokens reserved for the call (0 without a limiter). */
  reserved: number;
  /** This worker makes the fleet's half-open probe. */
  probe: boolean;
  signal: AbortSignal | undefined;
  spill: boolean | undefined;
  via: Pick<AttemptRecord, 'api'>;
  attempts: AttemptRecord[];
}

/**
 * Everything between the chain and one model: rate limit, bulkhead, breaker, timeout and
 * retries with backoff. Each call: wait for the fleet limiter (up to `maxWaitMs`), take a
 * bulkhead slot, pass the breaker, call with a signal that aborts after `timeoutMs`.
 * Retryable failures (`throttled`, `unavailable`, `timeout`, `internal`) are retried up to
 * `retry.maxAttempts` calls; refusals before a call (open circuit, rate limit, full
 * bulkhead) are not: the chain has other models to try.
 */
export class ModelPolicy {
  readonly modelId: string;
  private readonly slots: BulkheadPolicy;
  private readonly runtime: PolicyRuntime;

  constructor(private readonly o: ModelPolicyOptions) {
    this.modelId = o.modelId;
    this.runtime = PolicyRuntimeSchema.parse(o.runtime ?? {});
    this.slots = bulkhead(o.config.maxConcurrent, this.runtime.queueSize ?? o.config.maxConcurrent);
  }

  /**
   * Calls the model until it answers or gives up.
   * @throws PolicyFailure with every attempt recorded.
   */
  async execute(model: ResolvedModel, request: ModelRequest, options: ExecuteOptions): Promise<PolicyResult> {
    const attempts: AttemptRecord[] = [];
    const { retry } = this.o.config;
    for (let attempt = 0; ; attempt++) {
      const result = await this.tryOnce(model, request, options, attempts);
      if (result.ok) return { reply: result.reply, attempts };
      const { failure } = result;
      if (!result.retryable || attempt + 1 >= retry.maxAttempts) throw failure;
      const delayMs = nextDelayMs({
        attempt,
        kind: failure.outcome as ModelErrorKind,
        retryAfterMs: failure.details.retryAfterMs,
        rand: this.o.rand,
        ...retry,
      });
      this.notify((ev) =>
        ev.emit('retry', {
          modelId: this.modelId,
          attempt: attempt + 1,
          kind: failure.outcome as ModelErrorKind,
          delayMs,
        }),
      );
      try {
        await this.o.clock.sleep(delayMs, options.signal);
      } catch (e) {
        const message = 'job aborted while backing off';
        throw new PolicyFailure(this.modelId, 'timeout', message, attempts, { aborted: true, cause: e });
      }
    }
  }

  private async tryOnce(
    model: ResolvedModel,
    request: ModelRequest,
    { api, signal, limiter, spill, wake }: ExecuteOptions,
    attempts: AttemptRecord[],
  ): Promise<Try> {
    if (signal?.aborted) {
      return this.refuse('timeout', 'job aborted before the call', attempts, { aborted: true });
    }
    const { breaker, fleet } = this.o;
    // The fleet's verdict first: a model another worker found dead is not called here either,
    // and of all workers only the one holding the probe calls it when it half-opens.
    let probe = false;
    if (fleet) {
      const verdict = await fleet.check(this.modelId);
      if (verdict.state === 'open') {
        const message = `circuit open for ${this.modelId} across the fleet; next probe in ${verdict.retryAfterMs} ms`;
        return this.refuse('circuit_open', message, attempts, { retryAfterMs: verdict.retryAfterMs });
      }
      probe = verdict.state === 'probe';
      // Closed for the fleet, read after this breaker opened: another worker's probe found the
      // model well. (A verdict read before the opening is older news than the breaker.)
      const opened = breaker.openedAt;
      if (verdict.state === 'closed' && opened !== undefined && verdict.readAt > opened) breaker.reset();
    }
    if (!probe && breaker.rejecting) return this.circuitOpen(attempts);

    const reserved = limiter ? reservationTokens(model, request) : 0;
    if (limiter) {
      const maxWaitMs = spill === true ? this.runtime.spillWaitMs : this.runtime.maxWaitMs;
      const slot = await limiter.reserve(this.modelId, reserved, maxWaitMs);
      if (!slot.ok) {
        const message = `fleet rate for ${this.modelId}: next slot in ${slot.retryAfterMs} ms`;
        return this.refuse('rate_limited', message, attempts, { retryAfterMs: slot.retryAfterMs });
      }
      if (slot.delayMs > 0) {
        this.notify((ev) => ev.emit('rateLimited', { modelId: this.modelId, waitMs: slot.delayMs }));
        try {
          await this.o.clock.sleep(
            slot.delayMs,
            signal && wake ? AbortSignal.any([signal, wake]) : (signal ?? wake),
          );
        } catch {
          await this.refund(limiter, reserved, 1);
          if (!signal?.aborted) {
            const message = `gave its slot for ${this.modelId} back: an earlier model of the chain may take the call`;
            return this.refuse('rate_limited', message, attempts, { retryAfterMs: 0, woken: true });
          }
          return this.refuse('timeout', 'job aborted while waiting for its slot', attempts, {
            aborted: true,
          });
        }
      }
      if (!probe && breaker.rejecting) {
        await this.refund(limiter, reserved, 1);
        return this.circuitOpen(attempts);
      }
    }

    // A Converse-only model is called through Converse whatever the job asked; the attempt says so.
    const callApi = apiFor(model, api);
    const call: CallContext = {
      limiter,
      reserved,
      probe,
      signal,
      spill,
      via: callApi !== api ? { api: 'converse' } : {},
      attempts,
    };
    let startedAt = this.o.clock.now();
    // Set the moment the model answers: whatever throws after that is bookkeeping, not the call.
    const answer: { reply?: ModelReply } = {};
    let reply: ModelReply;
    try {
      reply = await this.slots.execute(() => {
        const invoke = async (): Promise<ModelReply> => {
          startedAt = this.o.clock.now();
          answer.reply = await callWithTimeout(this.o.client, model, request, {
            api: callApi,
            timeoutMs: this.o.config.timeoutMs,
            clock: this.o.clock,
            ...(signal ? { signal } : {}),
          });
          return answer.reply;
        };
        // The fleet's probe goes past this worker's breaker, which may still be counting down.
        return probe ? invoke() : breaker.execute(invoke, signal);
      }, signal);
    } catch (e) {
      if (!answer.reply) return this.failed(e, this.o.clock.now() - startedAt, call);
      // The breaker (or a listener of its events) threw while recording the answer.
      this.bookkeepingFailed('breaker', e);
      reply = answer.reply;
    }
    return this.answered(reply, this.o.clock.now() - startedAt, call);
  }

  /**
   * The model answered, and the answer is paid for: none of the bookkeeping here may turn it
   * into a failure, which would lose it and call a model again for the same job.
   */
  private async answered(reply: ModelReply, latencyMs: number, call: CallContext): Promise<Try> {
    const { limiter, reserved, probe, via, attempts } = call;
    if (probe) await this.keep('probe', () => this.probeAnswered(true));
    const used = reply.usage.inputTokens + reply.usage.outputTokens;
    if (limiter && used !== reserved) await this.refund(limiter, reserved - used);
    this.record(attempts, { modelId: this.modelId, outcome: 'ok', latencyMs, ...via });
    this.notify((ev) =>
      ev.emit('call', { modelId: this.modelId, outcome: 'ok', latencyMs, usage: reply.usage }),
    );
    return { ok: true, reply };
  }

  /** The call did not answer: why, as a failure the chain acts on. Bookkeeping never replaces it. */
  private async failed(e: unknown, latencyMs: number, call: CallContext): Promise<Try> {
    const { limiter, reserved, probe, signal, spill, via, attempts } = call;
    if (isBrokenCircuitError(e)) {
      if (limiter) await this.refund(limiter, reserved, 1);
      return this.circuitOpen(attempts);
    }
    if (isBulkheadRejectedError(e)) {
      if (limiter) await this.refund(limiter, reserved, 1);
      const { maxConcurrent } = this.o.config;
      return this.refuse(
        'throttled',
        `worker busy: ${maxConcurrent} calls to ${this.modelId} in flight and the queue is full`,
        attempts,
      );
    }
    if (isTaskCancelledError(e)) {
      if (limiter) await this.refund(limiter, reserved, 1);
      return this.refuse('timeout', 'job aborted while waiting for a call slot', attempts, {
        aborted: true,
      });
    }
    const err = classifyError(e, { modelId: this.modelId });
    if (probe && !signal?.aborted)
      await this.keep('probe', () => this.probeAnswered(!countsAgainstHealth(err)));
    // A throttle says the fleet's rate is above what Bedrock admits now: slow the whole fleet.
    if (limiter && err.kind === 'throttled')
      await this.keep('throttled', () => limiter.throttled(this.modelId));
    // A failed call used no tokens, except a timeout, where the model may have worked.
    if (limiter && err.kind !== 'timeout') await this.refund(limiter, reserved);
    const record: AttemptRecord = {
      modelId: this.modelId,
      outcome: err.kind,
      message: err.message,
      latencyMs,
      ...via,
    };
    if (err.httpStatus !== undefined) record.httpStatus = err.httpStatus;
    this.record(attempts, record);
    this.notify((ev) => ev.emit('call', { modelId: this.modelId, outcome: err.kind, latencyMs }));
    const aborted = signal?.aborted === true;
    const failure = new PolicyFailure(this.modelId, err.kind, err.message, attempts, {
      retryAfterMs: err.retryAfterMs,
      aborted,
      cause: err,
    });
    // With spill nothing is retried here: the chain's next model may answer now, while a
    // retry would wait out a backoff on a model that just said no (throttled, or unwell).
    const retryable = !aborted && isRetryableKind(err.kind) && spill !== true;
    return { ok: false, failure, retryable };
  }

  /**
   * Gives fleet tokens (and requests) reserved but not used back to the limiter (negative
   * tokens charge an answer that used more). When that fails (Redis lost for a moment), the
   * fleet's buckets stay charged for what nobody used: the fleet paces this model a little
   * slower until they refill, within the limiter's minute (a little faster, for an uncharged
   * overrun). Either costs far less than failing the call, which would lose an answer already
   * paid for and call a model again.
   */
  private refund(limiter: RateLimiter, tokens: number, requests?: number): Promise<void> {
    return this.keep('refund', () => limiter.refund(this.modelId, tokens, requests));
  }

  /** Runs one step of bookkeeping; should it fail, it is reported and goes no further. */
  private async keep(step: BookkeepingStep, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.bookkeepingFailed(step, error);
    }
  }

  private bookkeepingFailed(step: BookkeepingStep, error: unknown): void {
    try {
      this.o.events?.emit('bookkeepingFailed', { modelId: this.modelId, step, error });
    } catch {
      // A listener of the report itself threw: there is nowhere left to report it.
    }
  }

  /** Emits on the bus, if any; a listener that throws is reported, never thrown into the call. */
  private notify(emit: (events: ResilienceEmitter) => void): void {
    const { events } = this.o;
    if (!events) return;
    try {
      emit(events);
    } catch (error) {
      this.bookkeepingFailed('event', error);
    }
  }

  /** Tells the fleet how its probe went; a well model is closed here too. */
  private async probeAnswered(well: boolean): Promise<void> {
    const { fleet, breaker } = this.o;
    if (!fleet) return;
    if (well) {
      // A listener of the breaker closing that throws must not keep the fleet from hearing it.
      try {
        breaker.reset();
      } catch (error) {
        this.bookkeepingFailed('event', error);
      }
      await fleet.probeSucceeded(this.modelId);
    } else {
      await fleet.probeFailed(this.modelId, this.o.config.breaker.halfOpenAfterMs);
    }
  }

  private circuitOpen(attempts: AttemptRecord[]): Try {
    const waitMs = this.o.breaker.msUntilHalfOpen();
    const message = `circuit open for ${this.modelId}; next probe in ${waitMs} ms`;
    return this.refuse('circuit_open', message, attempts, { retryAfterMs: waitMs });
  }

  /** A refusal before any call: recorded with no latency, never retried here. */
  private refuse(
    outcome: Exclude<AttemptOutcome, 'ok'>,
    message: string,
    attempts: AttemptRecord[],
    details: { retryAfterMs?: number; aborted?: boolean; woken?: boolean } = {},
  ): Try {
    this.record(attempts, { modelId: this.modelId, outcome, message, latencyMs: 0 });
    return {
      ok: false,
      failure: new PolicyFailure(this.modelId, outcome, message, attempts, details),
      retryable: false,
    };
  }

  private record(attempts: AttemptRecord[], record: AttemptRecord): void {
    attempts.push(record);
    this.notify((ev) => ev.emit('attempt', record));
  }
}

/**
 * The policy settings of a model id as sent: that id's overrides in `config.models`, else
 * those of its base model (a profile `us.x` inherits the settings written for `x`).
 */
export function modelPolicyConfig(config: Config, modelId: string): PolicyConfig {
  return policyFor(config, config.models[modelId] ? modelId : parseModelId(modelId).baseId);
}

export interface PolicyRegistryOptions {
  config: Config;
  client: ModelClient;
  breakers: BreakerRegistry;
  clock: Clock;
  rand: Random;
  /** Defaults to the breakers' bus, so one listener sees everything. */
  events?: ResilienceEmitter;
  runtime?: Partial<PolicyRuntime>;
  /** Breaker state shared by the fleet. */
  fleet?: FleetBreakers;
}

/** The policies of one worker process, one per model id as sent, built on first use. */
export class PolicyRegistry {
  private readonly policies = new Map<string, ModelPolicy>();

  constructor(private readonly o: PolicyRegistryOptions) {}

  for(model: ResolvedModel): ModelPolicy {
    let policy = this.policies.get(model.requestId);
    if (!policy) {
      policy = new ModelPolicy({
        modelId: model.requestId,
        config: modelPolicyConfig(this.o.config, model.requestId),
        client: this.o.client,
        breaker: this.o.breakers.get(model.requestId),
        clock: this.o.clock,
        rand: this.o.rand,
        events: this.o.events ?? this.o.breakers.events,
        ...(this.o.runtime ? { runtime: this.o.runtime } : {}),
        ...(this.o.fleet ? { fleet: this.o.fleet } : {}),
      });
      this.policies.set(model.requestId, policy);
    }
    return policy;
  }
}
