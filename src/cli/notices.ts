import type { ModelFleetState } from '../resilience/fleet-view.js';
import { formatDuration, shortModelName } from './progress-layout.js';

/**
 * The lines a terminal prints above the progress bar when a model's health changes: an outage
 * noticed, a breaker opened, half-open, reopened or closed, a model back. Two sources feed
 * them: the resilience events of a worker in the same process (the demo), and the fleet's
 * breakers read from Redis on each refresh (`enqueue --wait`, `status --watch`). Lines carry
 * model names, kinds and counts only, never prompt or output text.
 */

/** Failure kinds that say a model is unwell; the same ones its breaker counts. */
const HEALTH_FAILURES: ReadonlySet<string> = new Set(['unavailable', 'timeout', 'internal']);
/** Health failures in a row, with no success between, before an outage is reported. */
export const FAILURES_TO_NOTICE = 3;

const seconds = (ms: number) =>
  ms >= 60_000 ? formatDuration(ms / 1000) : `${Math.max(0, Math.ceil(ms / 1000))} s`;

/** One resilience event of an in-process worker, as the notices need it. */
export type HealthEvent =
  | { type: 'attempt'; modelId: string; outcome: string; httpStatus?: number }
  | { type: 'fallback'; from: string; to: string }
  | { type: 'open'; modelId: string; kind: string; halfOpenAt: number }
  | { type: 'halfOpen'; modelId: string }
  | { type: 'close'; modelId: string };

type Health = 'well' | 'failing' | 'open' | 'probing';

interface ModelHealth {
  health: Health;
  /** Health failures in a row while well. */
  failures: number;
  /** Jobs that moved on from this model since it was first noticed unwell. */
  fallbacks: number;
}

const movedOn = (n: number) => (n > 0 ? `; ${n} ${n === 1 ? 'job' : 'jobs'} fell back meanwhile` : '');

/**
 * Follows one process's resilience events and says, in a line, each change of a model's health
 * a person watching the run would want to know of. Deterministic: the caller passes the time.
 */
export class HealthNotices {
  private readonly models = new Map<string, ModelHealth>();

  private of(modelId: string): ModelHealth {
    let m = this.models.get(modelId);
    if (!m) {
      m = { health: 'well', failures: 0, fallbacks: 0 };
      this.models.set(modelId, m);
    }
    return m;
  }

  /** The lines `event` adds (often none); `now` is the clock the breaker's `halfOpenAt` is on. */
  note(event: HealthEvent, now: number): string[] {
    switch (event.type) {
      case 'attempt': {
        const m = this.of(event.modelId);
        const name = shortModelName(event.modelId);
        if (HEALTH_FAILURES.has(event.outcome)) {
          if (m.health !== 'well') return [];
          m.failures++;
          if (m.failures < FAILURES_TO_NOTICE) return [];
          m.health = 'failing';
          const status = event.httpStatus ? `, HTTP ${event.httpStatus}` : '';
          return [`outage: ${name} failing (${event.outcome}${status})`];
        }
        if (event.outcome !== 'ok') return [];
        m.failures = 0;
        // With its breaker open or probing, the breaker's close says it.
        if (m.health !== 'failing') return [];
        const lines = [`back: ${name} answers again${movedOn(m.fallbacks)}`];
        m.health = 'well';
        m.fallbacks = 0;
        return lines;
      }
      case 'fallback': {
        const m = this.of(event.from);
        if (m.health !== 'well') m.fallbacks++;
        return [];
      }
      case 'open': {
        const m = this.of(event.modelId);
        const name = shortModelName(event.modelId);
        const probe = `next probe in ${seconds(event.halfOpenAt - now)}`;
        const line =
          m.health === 'probing'
            ? `breaker reopened: ${name}, probe failed; ${probe}`
            : `breaker opened: ${name} (${event.kind}); ${probe}`;
        m.health = 'open';
        m.failures = 0;
        return [line];
      }
      case 'halfOpen': {
        const m = this.of(event.modelId);
        m.health = 'probing';
        return [`breaker half-open: ${shortModelName(event.modelId)}, one probe call`];
      }
      case 'close': {
        const m = this.of(event.modelId);
        const was = m.health;
        m.health = 'well';
        m.failures = 0;
        const fallbacks = m.fallbacks;
        m.fallbacks = 0;
        const name = shortModelName(event.modelId);
        if (was === 'well') return [];
        if (was === 'failing') return [`back: ${name} answers again${movedOn(fallbacks)}`];
        return [`breaker closed: ${name} is back${movedOn(fallbacks)}`];
      }
    }
  }
}

/** A fleet breaker as seen from outside: closed, open until its probe is due, or due/probing. */
type FleetPhase = 'closed' | 'open' | 'probing';

const phaseOf = (m: ModelFleetState): FleetPhase =>
  m.breaker.state === 'closed' ? 'closed' : m.breaker.probeInMs > 0 ? 'open' : 'probing';

/**
 * Breaker transitions between two reads of the fleet state (`readFleetState`), one line each.
 * A model missing from `before` counts as closed, so a breaker already open when watching
 * starts is reported on the first read.
 */
export function fleetNotices(
  before: readonly ModelFleetState[],
  after: readonly ModelFleetState[],
): string[] {
  const was = new Map(before.map((m) => [m.modelId, phaseOf(m)]));
  const lines: string[] = [];
  for (const m of after) {
    const from = was.get(m.modelId) ?? 'closed';
    const to = phaseOf(m);
    if (from === to) continue;
    const name = shortModelName(m.modelId);
    const probeIn = m.breaker.state === 'open' ? seconds(m.breaker.probeInMs) : '';
    if (to === 'closed') lines.push(`breaker closed: ${name} is back`);
    else if (from === 'closed')
      lines.push(
        to === 'open'
          ? `breaker opened: ${name}; next probe in ${probeIn}`
          : `breaker opened: ${name}; a probe is due`,
      );
    else if (to === 'probing') lines.push(`breaker half-open: ${name}, one probe call`);
    else lines.push(`breaker reopened: ${name}, probe failed; next probe in ${probeIn}`);
  }
  return lines;
}
