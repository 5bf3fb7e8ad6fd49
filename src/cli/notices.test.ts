import { describe, expect, it } from 'vitest';
import type { ModelFleetState } from '../resilience/fleet-view.js';
import { FAILURES_TO_NOTICE, fleetNotices, type HealthEvent, HealthNotices } from './notices.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-1-70b-instruct-v1:0';

const failed: HealthEvent = { type: 'attempt', modelId: HAIKU, outcome: 'unavailable', httpStatus: 503 };
const ok: HealthEvent = { type: 'attempt', modelId: HAIKU, outcome: 'ok' };
const fallback: HealthEvent = { type: 'fallback', from: HAIKU, to: LLAMA };

/** Every line a run of events adds, at time 0. */
function run(events: HealthEvent[], notices = new HealthNotices()): string[] {
  return events.flatMap((e) => notices.note(e, 0));
}

describe('HealthNotices', () => {
  it('says once that a model is failing after a few health failures in a row, then that it answers again', () => {
    const lines = run([
      ...Array<HealthEvent>(FAILURES_TO_NOTICE + 4).fill(failed),
      fallback,
      fallback,
      ok,
      ok,
    ]);

    expect(lines).toEqual([
      'outage: claude-3-haiku-20240307 failing (unavailable, HTTP 503)',
      'back: claude-3-haiku-20240307 answers again; 2 jobs fell back meanwhile',
    ]);
  });

  it('says nothing of a failure here and there, nor of throttles and refusals', () => {
    const throttled: HealthEvent = { type: 'attempt', modelId: HAIKU, outcome: 'throttled', httpStatus: 429 };

    const lines = run([failed, ok, failed, failed, ok, throttled, throttled, throttled, throttled, fallback]);

    expect(lines).toEqual([]);
  });

  it('follows a breaker through open, half-open, a failed probe and closing', () => {
    const notices = new HealthNotices();

    const lines = [
      ...run(Array<HealthEvent>(FAILURES_TO_NOTICE).fill(failed), notices),
      ...notices.note({ type: 'open', modelId: HAIKU, kind: 'unavailable', halfOpenAt: 5_000 }, 0),
      ...run([fallback, fallback, fallback], notices),
      ...notices.note({ type: 'halfOpen', modelId: HAIKU }, 5_000),
      ...notices.note(failed, 5_010),
      ...notices.note({ type: 'open', modelId: HAIKU, kind: 'unavailable', halfOpenAt: 95_010 }, 5_010),
      ...notices.note({ type: 'halfOpen', modelId: HAIKU }, 95_010),
      ...notices.note(ok, 95_020),
      ...notices.note({ type: 'close', modelId: HAIKU }, 95_020),
      ...notices.note(ok, 95_030),
    ];

    expect(lines).toEqual([
      'outage: claude-3-haiku-20240307 failing (unavailable, HTTP 503)',
      'breaker opened: claude-3-haiku-20240307 (unavailable); next probe in 5 s',
      'breaker half-open: claude-3-haiku-20240307, one probe call',
      'breaker reopened: claude-3-haiku-20240307, probe failed; next probe in 1:30',
      'breaker half-open: claude-3-haiku-20240307, one probe call',
      'breaker closed: claude-3-haiku-20240307 is back; 3 jobs fell back meanwhile',
    ]);
  });

  it("keeps each model's health apart", () => {
    const notices = new HealthNotices();

    const lines = run(
      [
        ...Array<HealthEvent>(FAILURES_TO_NOTICE).fill(failed),
        { type: 'attempt', modelId: LLAMA, outcome: 'ok' },
        { type: 'close', modelId: LLAMA },
      ],
      notices,
    );

    expect(lines).toEqual(['outage: claude-3-haiku-20240307 failing (unavailable, HTTP 503)']);
  });
});

const closed = (modelId: string): ModelFleetState => ({ modelId, breaker: { state: 'closed' } });
const open = (modelId: string, probeInMs: number): ModelFleetState => ({
  modelId,
  breaker: { state: 'open', probeInMs },
});

describe('fleetNotices', () => {
  it('says nothing while no breaker changes', () => {
    expect(fleetNotices([closed(HAIKU), open(LLAMA, 3_000)], [closed(HAIKU), open(LLAMA, 2_000)])).toEqual(
      [],
    );
  });

  it('reports a breaker already open at the first read', () => {
    expect(fleetNotices([], [open(HAIKU, 4_200), closed(LLAMA)])).toEqual([
      'breaker opened: claude-3-haiku-20240307; next probe in 5 s',
    ]);
  });

  it('follows a fleet breaker from closed through open, probing and a failed probe, to closed', () => {
    const reads = [
      [closed(HAIKU)],
      [open(HAIKU, 30_000)],
      [open(HAIKU, 0)],
      [open(HAIKU, 30_000)],
      [open(HAIKU, 0)],
      [closed(HAIKU)],
    ];

    const lines = reads.slice(1).flatMap((after, i) => fleetNotices(reads[i] ?? [], after));

    expect(lines).toEqual([
      'breaker opened: claude-3-haiku-20240307; next probe in 30 s',
      'breaker half-open: claude-3-haiku-20240307, one probe call',
      'breaker reopened: claude-3-haiku-20240307, probe failed; next probe in 30 s',
      'breaker half-open: claude-3-haiku-20240307, one probe call',
      'breaker closed: claude-3-haiku-20240307 is back',
    ]);
  });

  it('reports a breaker that opened with its probe already due between two reads', () => {
    expect(fleetNotices([closed(LLAMA)], [open(LLAMA, 0)])).toEqual([
      'breaker opened: llama3-1-70b-instruct; a probe is due',
    ]);
  });
});
