import { bulkhead } from 'cockatiel';
import { apiFor, type ResolvedModel } from '../models/catalog.js';
import type { ModelErrorKind } from '../models/errors.js';
import type { ModelReply, ModelRequest } from '../models/request.js';
import { answered, type CallContext, failed } from './after-call.js';
import type { AttemptRecord } from './attempt.js';
import { nextDelayMs } from './backoff.js';
import { clearForCall } from './before-call.js';
import { PolicyFailure } from './errors.js';
import { callModel } from './model-call.js';
import { PolicyGuard } from './policy-guard.js';
import {
  type ExecuteOptions,
  type ModelPolicyOptions,
  type PolicyParts,
  PolicyRuntimeSchema,
} from './policy-options.js';
import type { TryOutcome } from './try-outcome.js';

export interface PolicyResult {
  reply: ModelReply;
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
  private readonly parts: PolicyParts;

  constructor(private readonly o: ModelPolicyOptions) {
    this.modelId = o.modelId;
    const runtime = PolicyRuntimeSchema.parse(o.runtime ?? {});
    this.parts = {
      modelId: o.modelId,
      config: o.config,
      client: o.client,
      breaker: o.breaker,
      fleet: o.fleet,
      clock: o.clock,
      runtime,
      slots: bulkhead(o.config.maxConcurrent, runtime.queueSize ?? o.config.maxConcurrent),
      guard: new PolicyGuard(o.modelId, o.events),
    };
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
      this.parts.guard.notify((ev) =>
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

  /** One try: leave to call, the call, and the bookkeeping of how it ended. */
  private async tryOnce(
    model: ResolvedModel,
    request: ModelRequest,
    options: ExecuteOptions,
    attempts: AttemptRecord[],
  ): Promise<TryOutcome> {
    const cleared = await clearForCall(this.parts, model, request, options, attempts);
    if (!cleared.ok) return cleared;
    const { api, signal, limiter, spill } = options;
    const { probe, reserved } = cleared;
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
    const end = await callModel(this.parts, model, request, { api: callApi, probe, signal });
    return end.answered
      ? answered(this.parts, end.reply, end.latencyMs, call)
      : failed(this.parts, end.error, end.latencyMs, call);
  }
}
