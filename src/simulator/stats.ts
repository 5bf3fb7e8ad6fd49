import type { CallOutcome } from './control.js';
import type { FaultKind } from './fault-rule.js';

/** Counts for one model key (base id, or `<geo>.<base id>` for a cross-region profile). */
export interface ModelStats {
  /** Calls that ended (every outcome). */
  calls: number;
  ok: number;
  throttled: number;
  /** Calls a fault changed (error, hang, filter, broken stream). */
  faults: number;
  faultsByKind: Partial<Record<FaultKind, number>>;
  /** Refused before any work (validation, unknown model, access) or abandoned by the client. */
  clientErrors: number;
  inputTokens: number;
  outputTokens: number;
  /** Calls the quota admitted within the last simulated minute. */
  admittedLastMinute: number;
}

/** What `GET /_sim/stats` answers (plus quota levels, see AdminStats). */
export interface StatsSnapshot {
  /** Real milliseconds since the simulator started. */
  uptimeMs: number;
  /** Real milliseconds the counters cover (since start or the last reset). */
  sinceResetMs: number;
  /** Simulated milliseconds since the simulator started (fault windows use this). */
  simulatedMs: number;
  timeScale: number;
  models: Record<string, ModelStats>;
  total: Omit<ModelStats, 'admittedLastMinute'> & { admittedLastMinute: number };
}

/** Timestamps in a growable ring: old ones drop off the front, new ones go on the back. */
class TimeRing {
  private times = new Float64Array(64);
  private head = 0;
  private size = 0;

  push(t: number): void {
    if (this.size === this.times.length) {
      const bigger = new Float64Array(this.times.length * 2);
      for (let i = 0; i < this.size; i++) bigger[i] = this.times[(this.head + i) % this.times.length]!;
      this.times = bigger;
      this.head = 0;
    }
    this.times[(this.head + this.size) % this.times.length] = t;
    this.size++;
  }

  dropBefore(t: number): void {
    while (this.size > 0 && this.times[this.head]! < t) {
      this.head = (this.head + 1) % this.times.length;
      this.size--;
    }
  }

  /** Times strictly after `t`: a window of length w ending now holds (now - w, now]. */
  countAfter(t: number): number {
    let n = 0;
    for (let i = this.size - 1; i >= 0; i--) {
      if (this.times[(this.head + i) % this.times.length]! <= t) break;
      n++;
    }
    return n;
  }
}

interface Entry {
  counts: Omit<ModelStats, 'admittedLastMinute'>;
  admitted: TimeRing;
}

const emptyCounts = (): Entry['counts'] => ({
  calls: 0,
  ok: 0,
  throttled: 0,
  faults: 0,
  faultsByKind: {},
  clientErrors: 0,
  inputTokens: 0,
  outputTokens: 0,
});

/** Time and scale the counters are read against. */
export interface StatsOptions {
  /** Real milliseconds, monotonic. */
  clock: () => number;
  timeScale: number;
  /** When simulated time began (fault windows are measured from it). */
  startedAt: number;
}

/**
 * Per-model counters for `/_sim/stats`, plus the times of admitted calls so the admitted rate
 * over a recent window can be read (kept for two simulated minutes, so memory stays bounded).
 */
export class SimStats {
  private readonly entries = new Map<string, Entry>();
  private readonly minuteMs: number;
  private resetAt: number;

  constructor(private readonly options: StatsOptions) {
    this.minuteMs = 60_000 / options.timeScale;
    this.resetAt = options.startedAt;
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = { counts: emptyCounts(), admitted: new TimeRing() };
      this.entries.set(key, e);
    }
    return e;
  }

  /** One call passed the quota. */
  admitted(key: string): void {
    const now = this.options.clock();
    const ring = this.entry(key).admitted;
    ring.push(now);
    ring.dropBefore(now - 2 * this.minuteMs);
  }

  /** A fault rule changed one call. */
  fault(key: string, kind: FaultKind): void {
    const byKind = this.entry(key).counts.faultsByKind;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }

  /** One call ended. */
  record(key: string, outcome: CallOutcome, usage: { inputTokens: number; outputTokens: number }): void {
    const c = this.entry(key).counts;
    c.calls++;
    if (outcome === 'ok') c.ok++;
    else if (outcome === 'throttled') c.throttled++;
    else if (outcome === 'fault') c.faults++;
    else c.clientErrors++;
    c.inputTokens += usage.inputTokens;
    c.outputTokens += usage.outputTokens;
  }

  /**
   * Calls admitted for a key within the last `windowMs` simulated milliseconds (at most two
   * simulated minutes back).
   */
  admittedWithin(key: string, windowMs: number): number {
    const ring = this.entries.get(key)?.admitted;
    return ring ? ring.countAfter(this.options.clock() - windowMs / this.options.timeScale) : 0;
  }

  /** Plain JSON of every counter. */
  snapshot(): StatsSnapshot {
    const now = this.options.clock();
    const models: Record<string, ModelStats> = {};
    const total: StatsSnapshot['total'] = { ...emptyCounts(), admittedLastMinute: 0 };
    for (const [key, { counts, admitted }] of this.entries) {
      const m: ModelStats = {
        ...counts,
        faultsByKind: { ...counts.faultsByKind },
        admittedLastMinute: admitted.countAfter(now - this.minuteMs),
      };
      models[key] = m;
      total.calls += m.calls;
      total.ok += m.ok;
      total.throttled += m.throttled;
      total.faults += m.faults;
      total.clientErrors += m.clientErrors;
      total.inputTokens += m.inputTokens;
      total.outputTokens += m.outputTokens;
      total.admittedLastMinute += m.admittedLastMinute;
      for (const [kind, n] of Object.entries(m.faultsByKind) as [FaultKind, number][])
        total.faultsByKind[kind] = (total.faultsByKind[kind] ?? 0) + n;
    }
    return {
      uptimeMs: Math.round(now - this.options.startedAt),
      sinceResetMs: Math.round(now - this.resetAt),
      simulatedMs: Math.round((now - this.options.startedAt) * this.options.timeScale),
      timeScale: this.options.timeScale,
      models,
      total,
    };
  }

  /** Zeroes every counter and forgets admitted times. */
  reset(): void {
    this.entries.clear();
    this.resetAt = this.options.clock();
  }
}
