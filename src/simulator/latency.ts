import type { Random } from '../random.js';
import type { ModelState } from './control.js';

/** How delays are drawn for every call of a run. */
export interface LatencyOptions {
  /** Real time runs this many times faster than simulated time. */
  timeScale: number;
  /** Each delay is drawn uniformly within ± this fraction of the model's typical value. */
  jitter: number;
  /** Answer at once (benchmarks of pure overhead). */
  zero: boolean;
}

/** Real milliseconds before the first token and between tokens of one call. */
export interface CallLatency {
  firstTokenMs: number;
  perTokenMs: number;
}

const ZERO: CallLatency = Object.freeze({ firstTokenMs: 0, perTokenMs: 0 });

function jittered(ms: number, jitter: number, random: Random): number {
  return jitter === 0 ? ms : ms * (1 + jitter * (2 * random() - 1));
}

/**
 * The delays of one call from the model's typical time to first token and output speed,
 * each jittered independently and divided by the time scale.
 */
export function callLatency(
  model: Pick<ModelState, 'firstTokenMs' | 'tokensPerSecond'>,
  options: LatencyOptions,
  random: Random,
): CallLatency {
  if (options.zero) return ZERO;
  const first = jittered(model.firstTokenMs, options.jitter, random);
  const perToken = jittered(1000 / model.tokensPerSecond, options.jitter, random);
  return { firstTokenMs: first / options.timeScale, perTokenMs: perToken / options.timeScale };
}
