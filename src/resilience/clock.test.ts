import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';

describe('ManualClock', () => {
  it('fires sleeps in time order as it advances', async () => {
    const clock = new ManualClock(0);
    const woke: string[] = [];
    const late = clock.sleep(300).then(() => woke.push(`late@${clock.now()}`));
    const early = clock.sleep(100).then(() => woke.push(`early@${clock.now()}`));

    clock.advance(250);
    await early;
    const afterFirst = [...woke];
    clock.advance(50);
    await late;

    expect(afterFirst).toEqual(['early@250']);
    expect(woke).toEqual(['early@250', 'late@300']);
  });

  it('rejects a sleep with the abort reason and forgets its timer', async () => {
    const clock = new ManualClock(0);
    const stop = new AbortController();
    const sleeping = clock.sleep(1_000, stop.signal);

    stop.abort(new Error('shutdown'));

    await expect(sleeping).rejects.toThrow('shutdown');
    expect(clock.pending).toBe(0);
  });

  it('runs a promise to completion in virtual time', async () => {
    const clock = new ManualClock(0);
    const work = async (): Promise<number> => {
      await clock.sleep(1_000);
      await clock.sleep(2_000);
      return clock.now();
    };

    expect(await clock.run(work())).toBe(3_000);
  });

  it('says so when a promise waits on something other than the clock', async () => {
    const clock = new ManualClock(0);

    await expect(clock.run(new Promise(() => {}))).rejects.toThrow(
      /waits on something other than this clock/,
    );
  });
});
