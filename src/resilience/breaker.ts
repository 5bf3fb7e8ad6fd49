import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  type FailureReason,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IHalfOpenAfterBackoffContext,
} from 'cockatiel';
import type { Clock } from '../clock.js';
import type { PolicyConfig } from '../config-policy.js';
import { isModelError, type ModelErrorKind } from '../models/errors.js';
import { createResilienceEvents, type ResilienceEmitter } from './events.js';

/**
 * Kinds that say the model itself is unwell. Only these count towards opening a breaker.
 *
 * `throttled` does not: a throttle is load, not sickness. Bedrock throttles when a quota
 * (ours or the region's) is used up; a breaker that opened on throttles would stop the
 * whole worker from using the quota it has as soon as the fleet brushed its limit, and
 * keep it stopped for `halfOpenAfterMs`. Backoff and the fleet-wide rate limiter handle
 * load. Answers about the request (`context_overflow`, `content_filtered`,
 * `invalid_request`, `access_denied`, `quota_exceeded`) prove the model is up: they count
 * as successes and reset the run of failures, as does any call cancelled by the job.
 */
const UNHEALTHY: ReadonlySet<ModelErrorKind> = new Set(['unavailable', 'timeout', 'internal']);

/** True when a failure counts against the model's health. */
export function countsAgainstHealth(error: unknown): boolean {
  return isModelError(error) && UNHEALTHY.has(error.kind);
}

/** Breaker settings for one model (`policy.breaker` in the config). */
export type BreakerSettings = PolicyConfig['breaker'];

export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

/** A breaker as plain JSON, for `GET /v1/models` and logs. */
export interface BreakerView {
  modelId: string;
  state: BreakerState;
  /** Health failures in a row since the last success. */
  consecutiveFailures: number;
  /** Clock time the breaker last opened, while open. */
  openedAt?: number;
  /** Clock time from which one probe call is let through, while open. */
  halfOpenAt?: number;
}

/** What it takes to rebuild a breaker after a restart. */
export interface BreakerSnapshot {
  modelId: string;
  openedAt?: number;
  /** cockatiel's own `toJSON()`. */
  circuit: unknown;
}

const STATE_NAMES: Readonly<Record<CircuitState, BreakerState>> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

type Outcome<T> = { answered: true; value: T } | { answered: false; error: unknown };

/**
 * One model's circuit breaker: a cockatiel consecutive breaker whose open → half-open
 * delay is measured on our injected {@link Clock}.
 *
 * cockatiel 4 reads `Date.now()` itself and moves to half-open lazily, on the first call
 * after `Date.now() - openedAt >= backoff.duration`; no timer fires. We hand it a backoff
 * whose `duration` asks our clock instead (−∞ once `halfOpenAfterMs` has passed on our clock,
 * +∞ before), so tests advance a manual clock and the next call is the probe. The probe is
 * the only call let through while half-open; other callers are told the circuit is open
 * (and move on down the chain) rather than queueing behind the probe as cockatiel would.
 */
export class ModelBreaker {
  readonly modelId: string;
  private counter: ConsecutiveBreaker;
  private circuit: CircuitBreakerPolicy;
  private openedAtMs: number | undefined;
  private restoredOpenedAt: number | undefined;

  constructor(
    modelId: string,
    private readonly settings: BreakerSettings,
    private readonly clock: Clock,
    private readonly events: ResilienceEmitter,
    snapshot?: BreakerSnapshot,
  ) {
    this.modelId = modelId;
    this.restoredOpenedAt = snapshot?.openedAt;
    this.counter = new ConsecutiveBreaker(settings.consecutiveFailures);
    this.circuit = this.build(snapshot);
  }

  private build(snapshot?: BreakerSnapshot): CircuitBreakerPolicy {
    const { modelId, events } = this;
    const backoff: IBackoff<IHalfOpenAfterBackoffContext> = {
      get duration() {
        return halfOpenDue() ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      },
      next: () => this.opened(backoff),
    };
    const halfOpenDue = (): boolean => this.clock.now() >= this.halfOpenAt();
    // cockatiel asks the factory for a backoff each time the circuit opens (and on restore).
    const factory: IBackoffFactory<IHalfOpenAfterBackoffContext> = { next: () => this.opened(backoff) };
    const circuit = circuitBreaker(handleWhen(countsAgainstHealth), {
      breaker: this.counter,
      halfOpenAfter: factory,
      ...(snapshot ? { initialState: snapshot.circuit } : {}),
    });
    circuit.onBreak((reason) => {
      events.emit('open', { modelId, kind: kindOf(reason), halfOpenAt: this.halfOpenAt() });
    });
    circuit.onHalfOpen(() => events.emit('halfOpen', { modelId }));
    circuit.onReset(() => {
      this.openedAtMs = undefined;
      events.emit('close', { modelId });
    });
    return circuit;
  }

  /** Clock time this breaker last opened, while it is open. */
  get openedAt(): number | undefined {
    return this.circuit.state === CircuitState.Closed ? undefined : this.openedAtMs;
  }

  /**
   * Closes the breaker with a clean count, because the fleet's probe (made by another worker)
   * found the model well. Emits `close` when it was not closed already.
   */
  reset(): void {
    const wasClosed = this.circuit.state === CircuitState.Closed;
    this.openedAtMs = undefined;
    this.counter = new ConsecutiveBreaker(this.settings.consecutiveFailures);
    this.circuit = this.build();
    if (!wasClosed) this.events.emit('close', { modelId: this.modelId });
  }

  get state(): BreakerState {
    return STATE_NAMES[this.circuit.state];
  }

  /** True when a call now would be refused without reaching the model. */
  get rejecting(): boolean {
    switch (this.circuit.state) {
      case CircuitState.Closed:
        return false;
      case CircuitState.Open:
        return this.clock.now() < this.halfOpenAt();
      default:
        return true; // half-open with its probe in flight, or isolated by hand
    }
  }

  /** Milliseconds until a probe may be let through; 0 when not open. */
  msUntilHalfOpen(): number {
    if (this.circuit.state !== CircuitState.Open) return 0;
    return Math.max(0, this.halfOpenAt() - this.clock.now());
  }

  /**
   * Runs one call through the breaker.
   * @throws BrokenCircuitError (cockatiel) when the circuit is open; otherwise what `fn` threw.
   */
  async execute<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    // cockatiel would queue this call behind the probe; the chain has better things to do.
    if (this.circuit.state === CircuitState.HalfOpen) throw new BrokenCircuitError();
    const outcome = await this.circuit.execute(async (): Promise<Outcome<T>> => {
      try {
        return { answered: true, value: await fn() };
      } catch (error) {
        // Rethrown errors are what cockatiel counts; the rest leave as values, as successes.
        if (countsAgainstHealth(error) && !signal?.aborted) throw error;
        return { answered: false, error };
      }
    }, signal);
    if (outcome.answered) return outcome.value;
    throw outcome.error;
  }

  /** Holds the breaker open until the returned handle is disposed (operator action). */
  isolate(): { dispose(): void } {
    return this.circuit.isolate();
  }

  view(): BreakerView {
    const view: BreakerView = {
      modelId: this.modelId,
      state: this.state,
      consecutiveFailures: this.counter.state,
    };
    if (this.circuit.state === CircuitState.Open && this.openedAtMs !== undefined) {
      view.openedAt = this.openedAtMs;
      view.halfOpenAt = this.halfOpenAt();
    }
    return view;
  }

  toJSON(): BreakerSnapshot {
    return {
      modelId: this.modelId,
      ...(this.openedAtMs === undefined ? {} : { openedAt: this.openedAtMs }),
      circuit: this.circuit.toJSON(),
    };
  }

  private opened<B>(backoff: B): B {
    this.openedAtMs = this.restoredOpenedAt ?? this.clock.now();
    this.restoredOpenedAt = undefined;
    return backoff;
  }

  private halfOpenAt(): number {
    return (this.openedAtMs ?? Number.NEGATIVE_INFINITY) + this.settings.halfOpenAfterMs;
  }
}

function kindOf(reason: FailureReason<unknown> | { isolated: true }): ModelErrorKind | 'unknown' {
  return 'error' in reason && isModelError(reason.error) ? reason.error.kind : 'unknown';
}

export interface BreakerRegistryOptions {
  /** Breaker settings per model id, e.g. `(id) => policyFor(config, id).breaker`. */
  settingsFor: (modelId: string) => BreakerSettings;
  clock: Clock;
  /** Where `open`, `halfOpen` and `close` are emitted; a new bus when absent. */
  events?: ResilienceEmitter;
  /** Breakers saved by {@link BreakerRegistry.toJSON} before a restart. */
  initialState?: readonly BreakerSnapshot[];
}

/**
 * The breakers of one worker process, one per model id (as sent to Bedrock: a profile and
 * its base model are separate capacity pools), created on first use.
 */
export class BreakerRegistry {
  readonly events: ResilienceEmitter;
  private readonly breakers = new Map<string, ModelBreaker>();
  private readonly saved: Map<string, BreakerSnapshot>;

  constructor(private readonly options: BreakerRegistryOptions) {
    this.events = options.events ?? createResilienceEvents();
    this.saved = new Map((options.initialState ?? []).map((s) => [s.modelId, s]));
  }

  get(modelId: string): ModelBreaker {
    let breaker = this.breakers.get(modelId);
    if (!breaker) {
      const snapshot = this.saved.get(modelId);
      this.saved.delete(modelId);
      breaker = new ModelBreaker(
        modelId,
        this.options.settingsFor(modelId),
        this.options.clock,
        this.events,
        snapshot,
      );
      this.breakers.set(modelId, breaker);
    }
    return breaker;
  }

  /** Every breaker used so far, keyed by model id, as plain JSON. */
  states(): Record<string, BreakerView> {
    const out: Record<string, BreakerView> = {};
    for (const [id, breaker] of this.breakers) out[id] = breaker.view();
    return out;
  }

  /** Plain data to pass back as `initialState` after a restart. */
  toJSON(): BreakerSnapshot[] {
    return [...this.breakers.values()].map((b) => b.toJSON());
  }
}
