import { describe, expect, it } from 'vitest';
import {
  countsLine,
  eraseLive,
  formatDuration,
  type ProgressSnapshot,
  progressLine,
  shortModelName,
  wrapLine,
} from './progress-layout.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const LLAMA = 'meta.llama3-1-70b-instruct-v1:0';
const TITAN = 'amazon.titan-text-express-v1';

const midRun: ProgressSnapshot = {
  total: 217,
  completed: 130,
  failed: 3,
  perModel: { [HAIKU]: 121, [LLAMA]: 61, [TITAN]: 35 },
  doneAtStart: 0,
  elapsedMs: 10_000,
};

describe('progressLine', () => {
  it.each([40, 80, 120, 200])('is never as wide as a terminal %i columns wide', (columns) => {
    const line = progressLine(midRun, columns);

    expect(line.length).toBeLessThan(columns);
    expect(line).toContain('133/217');
  });

  it('keeps full short names of every model on a wide terminal', () => {
    const line = progressLine(midRun, 200);

    expect(line).toContain(' 61% | 133/217 done, 3 failed | 13.3/s | ETA 0:06 | ');
    expect(line).toContain('claude-3-haiku-20240307 121, llama3-1-70b-instruct 61, titan-text-express 35');
    expect(line).toMatch(/^█{18}░{12} {2}61%/);
  });

  it('shortens model names first, then shows fewer models, on a 120-column terminal', () => {
    const line = progressLine(midRun, 120);

    expect(line).toContain('133/217 done, 3 failed | 13.3/s | ETA 0:06 | ');
    expect(line).toMatch(/claude-3-haiku 121(, llama3-1-70b 61)?/);
    expect(line).not.toContain('20240307');
  });

  it('drops the models, then the rate, before the ETA and the counts, on 80 columns', () => {
    const line = progressLine(midRun, 80);

    expect(line).toContain('133/217 done, 3 failed');
    expect(line).toContain('ETA 0:06');
    expect(line).not.toContain('haiku');
  });

  it('keeps a bar, the percent and the counts, in fewer words, on 40 columns', () => {
    const line = progressLine(midRun, 40);

    expect(line).toMatch(/^[█░]{17} {2}61% 133\/217 3 failed$/);
  });

  it('drops the bar before the counts on a very narrow terminal, and cuts what is left', () => {
    expect(progressLine(midRun, 20)).toBe(' 61% 133/217 3 fail');
    expect(progressLine(midRun, 2)).toBe(' ');
  });

  it('shows a full bar, no ETA and the count of failed jobs when the batch is done', () => {
    const done = { ...midRun, completed: 214, failed: 3 };

    const line = progressLine(done, 120);

    expect(line).toMatch(/^█+ 100% \| 217\/217 done, 3 failed \| 21\.7\/s \| /);
    expect(line).not.toContain('░');
    expect(line).not.toContain('ETA');
  });

  it('counts the rate only from what the view saw, and shows none before any job finished under it', () => {
    const resumed = { ...midRun, doneAtStart: 100 };
    const fresh = { ...midRun, completed: 0, failed: 0, doneAtStart: 0, perModel: {} };

    expect(progressLine(resumed, 200)).toContain('| 3.3/s | ETA 0:25');
    expect(progressLine(fresh, 200)).toMatch(/ {2}0% \| 0\/217 done, 0 failed$/);
  });

  it("shows the queue's running and waiting jobs when it knows them, before giving them up", () => {
    const watched = { ...midRun, perModel: {}, queue: { active: 12, waiting: 72 } };

    expect(progressLine(watched, 120)).toContain('| 12 active, 72 waiting');
    expect(progressLine(watched, 60)).not.toContain('active');
  });

  it('fits every width from 1 to 250 columns', () => {
    for (let columns = 1; columns <= 250; columns++)
      expect(progressLine(midRun, columns).length).toBeLessThanOrEqual(Math.max(1, columns - 1));
  });
});

describe('shortModelName', () => {
  it('drops region, provider and version, then date stamps and -instruct', () => {
    expect(shortModelName(HAIKU)).toBe('claude-3-haiku-20240307');
    expect(shortModelName(HAIKU, 1)).toBe('claude-3-haiku');
    expect(shortModelName(`us.${HAIKU}`)).toBe('claude-3-haiku-20240307');
    expect(shortModelName(LLAMA, 1)).toBe('llama3-1-70b');
    expect(shortModelName(TITAN, 1)).toBe('titan-text-express');
    expect(shortModelName('amazon.nova-pro-v1:0')).toBe('nova-pro');
    expect(shortModelName('my-own-model')).toBe('my-own-model');
  });
});

describe('formatDuration', () => {
  it('writes minutes and seconds, and hours from an hour on', () => {
    expect(formatDuration(6.4)).toBe('0:06');
    expect(formatDuration(605)).toBe('10:05');
    expect(formatDuration(3_723)).toBe('1:02:03');
  });
});

describe('countsLine', () => {
  const counts = {
    waiting: 1200,
    active: 32,
    delayed: 0,
    prioritized: 0,
    'waiting-children': 0,
    completed: 40_000,
    failed: 3,
  };

  it('shows every count when they fit, and leaves out those at zero when not', () => {
    expect(countsLine(counts, 120)).toBe(
      'waiting 1200, active 32, delayed 0, prioritized 0, waiting-children 0, completed 40000, failed 3',
    );
    expect(countsLine(counts, 80)).toBe('waiting 1200, active 32, completed 40000, failed 3');
    expect(countsLine(counts, 40).length).toBe(39);
  });
});

describe('wrapLine', () => {
  it.each([40, 80, 120, 200])('wraps at spaces to fit %i columns, indenting what follows', (columns) => {
    const text = `breaker opened: claude-3-haiku-20240307 (unavailable); next probe in 5 s; ${'x'.repeat(150)}`;

    const lines = wrapLine(text, columns);

    for (const line of lines) expect(line.length).toBeLessThan(columns);
    expect(lines.slice(1).every((l) => l.startsWith('  '))).toBe(true);
    expect(lines.join('').replaceAll(' ', '')).toBe(text.replaceAll(' ', ''));
  });

  it('keeps the indent of an indented line and indents what follows further', () => {
    expect(wrapLine('  meta.llama3-1-70b-instruct-v1:0: 400 of 400 rpm, breaker closed', 50)).toEqual([
      '  meta.llama3-1-70b-instruct-v1:0: 400 of 400',
      '    rpm, breaker closed',
    ]);
  });

  it('leaves a line that fits as it is', () => {
    expect(wrapLine('outage: claude-3-haiku failing', 80)).toEqual(['outage: claude-3-haiku failing']);
    expect(wrapLine('', 80)).toEqual(['']);
  });
});

describe('eraseLive', () => {
  it('clears the one row of a line that still fits', () => {
    expect(eraseLive(79, 80)).toBe('\r\x1b[2K');
    expect(eraseLive(0, 80)).toBe('\r\x1b[2K');
  });

  it('clears every row a narrower terminal wrapped the line onto', () => {
    expect(eraseLive(119, 80)).toBe('\r\x1b[2K\x1b[1A\x1b[2K');
    expect(eraseLive(119, 40)).toBe('\r\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K');
  });
});
