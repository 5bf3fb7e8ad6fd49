import type { InvokeOptions, ModelClient } from '../../src/bedrock/types.js';
import { ManualClock } from '../../src/clock.js';
import { type Config, type ConfigInput, ConfigSchema } from '../../src/config.js';
import { ModelCatalog, type ResolvedModel } from '../../src/models/catalog.js';
import { ModelError, type ModelErrorKind } from '../../src/models/errors.js';
import type { ModelReply, ModelRequest } from '../../src/models/request.js';
import type { Random } from '../../src/random.js';
import { BreakerRegistry } from '../../src/resilience/breaker.js';
import { createResilienceEvents, type ResilienceEmitter } from '../../src/resilience/events.js';
import type { PolicyRuntime } from '../../src/resilience/policy-options.js';
import { modelPolicyConfig, PolicyRegistry } from '../../src/resilience/policy-registry.js';

/**
 * Test doubles for the resilience pipeline's ports. Unit tests of the policy, the chain and
 * the worker script model behaviour here; integration tests use the simulator instead.
 */

/** What the fake does on one call. */
export type FakeStep =
  | { reply: Partial<Omit<ModelReply, 'modelId'>> }
  | { error: ModelError }
  /** Never answers; rejects like the SDK when the call's signal aborts. */
  | { hang: true }
  /** Answers once {@link FakeModelClient.release} is called. */
  | { hold: true };

export interface FakeCall {
  modelId: string;
  request: ModelRequest;
  options: InvokeOptions;
}

/** A {@link ModelClient} that plays scripted steps per model id and records every call. */
export class FakeModelClient implements ModelClient {
  readonly calls: FakeCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly scripts = new Map<string, FakeStep[]>();
  private readonly held: (() => void)[] = [];

  /** Appends steps for a model id; once they run out, the model answers `ok`. */
  script(modelId: string, ...steps: FakeStep[]): this {
    this.scripts.set(modelId, [...(this.scripts.get(modelId) ?? []), ...steps]);
    return this;
  }

  /** Calls made to a model id. */
  callsTo(modelId: string): number {
    return this.calls.filter((c) => c.modelId === modelId).length;
  }

  /** Lets every held call answer. */
  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  async invoke(model: ResolvedModel, request: ModelRequest, options: InvokeOptions): Promise<ModelReply> {
    this.calls.push({ modelId: model.requestId, request, options });
    const step = this.scripts.get(model.requestId)?.shift() ?? { reply: {} };
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if ('error' in step) throw step.error;
      if ('hang' in step) await abortedBy(options.signal);
      if ('hold' in step) await new Promise<void>((resolve) => this.held.push(resolve));
      const reply = 'reply' in step ? step.reply : {};
      return {
        text: 'ok',
        stopReason: 'end_turn',
        usage: { inputTokens: 10, outputTokens: 5 },
        latencyMs: 1,
        ...reply,
        modelId: model.requestId,
      };
    } finally {
      this.inFlight--;
    }
  }
}

function abortedBy(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    const fail = (): void => {
      const e = new Error('This operation was aborted');
      e.name = 'AbortError';
      reject(e);
    };
    if (signal?.aborted) fail();
    else signal?.addEventListener('abort', fail, { once: true });
  });
}

const EXCEPTION_NAMES: Readonly<Record<ModelErrorKind, [string, number]>> = {
  throttled: ['ThrottlingException', 429],
  unavailable: ['ServiceUnavailableException', 503],
  timeout: ['ModelTimeoutException', 408],
  context_overflow: ['ValidationException', 400],
  content_filtered: ['ContentFiltered', 200],
  access_denied: ['AccessDeniedException', 403],
  invalid_request: ['ValidationException', 400],
  quota_exceeded: ['ServiceQuotaExceededException', 400],
  internal: ['InternalServerException', 500],
};

/** A classified error as the real client would throw it. */
export function modelError(
  kind: ModelErrorKind,
  extra: { retryAfterMs?: number; message?: string } = {},
): ModelError {
  const [name, httpStatus] = EXCEPTION_NAMES[kind];
  return new ModelError(kind, extra.message ?? `${name} from the fake`, {
    name,
    httpStatus,
    ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
  });
}

/** A step that fails with `kind`. */
export function fail(
  kind: ModelErrorKind,
  extra: { retryAfterMs?: number; message?: string } = {},
): FakeStep {
  return { error: modelError(kind, extra) };
}

export interface TestPipeline {
  config: Config;
  catalog: ModelCatalog;
  clock: ManualClock;
  client: FakeModelClient;
  events: ResilienceEmitter;
  breakers: BreakerRegistry;
  policies: PolicyRegistry;
  /** Resolves a catalog id or alias; throws for an unknown one. */
  model(id: string): ResolvedModel;
}

/**
 * A resilience pipeline on a fake client, a manual clock and `rand` (default: always 0.5),
 * configured like production from a config input.
 */
export function createTestPipeline(
  input: { config?: ConfigInput; rand?: Random; runtime?: Partial<PolicyRuntime> } = {},
): TestPipeline {
  const config = ConfigSchema.parse(input.config ?? {});
  const catalog = ModelCatalog.of(config);
  const clock = new ManualClock(1_000_000);
  const client = new FakeModelClient();
  const events = createResilienceEvents();
  const breakers = new BreakerRegistry({
    settingsFor: (id) => modelPolicyConfig(config, id).breaker,
    clock,
    events,
  });
  const policies = new PolicyRegistry({
    config,
    client,
    breakers,
    clock,
    rand: input.rand ?? (() => 0.5),
    ...(input.runtime ? { runtime: input.runtime } : {}),
  });
  const model = (id: string): ResolvedModel => {
    const resolved = catalog.resolve(id);
    if (!resolved) throw new Error(`test model ${id} is not in the catalog`);
    return resolved;
  };
  return { config, catalog, clock, client, events, breakers, policies, model };
}
