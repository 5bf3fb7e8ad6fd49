import type { Clock } from '../clock.js';
import type { ResilienceEmitter } from './events.js';

/** A signal that fires once, and the means to stop it firing. */
export interface Wake {
  readonly signal: AbortSignal;
  /** Stops the timer and the listeners; idempotent. */
  dispose(): void;
}

export interface WakeOptions {
  clock: Clock;
  /** Models whose breaker was open: a job waiting elsewhere would rather have them. */
  models: readonly { modelId: string; retryAfterMs: number | undefined }[];
  /** The longest a waiter goes without looking again (another worker's probe may close it). */
  recheckMs: number;
  /** The process's breaker events: a breaker closing here wakes at once. */
  events?: ResilienceEmitter;
}

/** Never wake sooner than this: a breaker due "now" is taken by some job's next pass anyway. */
const MIN_WAKE_MS = 10;

/**
 * Fires when any of `models` may take calls again: its breaker's probe is due, a breaker of
 * this process closes, or `recheckMs` passes (the fleet breaker may have been closed by
 * another worker's probe). A job that reserved a far slot on a later model of its chain waits
 * on this, so a primary that comes back is used at once rather than after the reserved slot.
 */
export function wakeWhenAvailable(options: WakeOptions): Wake {
  const fire = new AbortController();
  const timer = new AbortController();
  const ids = new Set(options.models.map((m) => m.modelId));
  const named = options.models.map((m) => m.retryAfterMs ?? options.recheckMs);
  const delayMs = Math.max(MIN_WAKE_MS, Math.min(options.recheckMs, ...named));
  const onClose = (e: { modelId: string }) => {
    if (ids.has(e.modelId)) fire.abort();
  };
  options.events?.on('close', onClose);
  options.clock.sleep(delayMs, timer.signal).then(
    () => fire.abort(),
    () => {},
  );
  return {
    signal: fire.signal,
    dispose() {
      timer.abort();
      options.events?.off('close', onClose);
    },
  };
}
