import { readFile } from 'node:fs/promises';
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

describe('ManualClock with real I/O between sleeps', () => {
  it('resolves sleeping(n) once n sleeps are pending', async () => {
    const clock = new ManualClock(0);
    let reached = false;
    const both = clock.sleeping(2).then(() => {
      reached = true;
    });

    void clock.sleep(10);
    await Promise.resolve();
    const afterOne = reached;
    void clock.sleep(20);
    await both;

    expect(afterOne).toBe(false);
    expect(clock.pending).toBe(2);
  });

  it('steps to the earliest sleep and fires it alone, even when another falls due with it', async () => {
    const clock = new ManualClock(0);
    const woke: string[] = [];
    const a = clock.sleep(100).then(() => woke.push('a'));
    const b = clock.sleep(100).then(() => woke.push('b'));
    const far = clock.sleep(60_000);

    const nearBefore = clock.pendingWithin(1_000);
    clock.step();
    await a;
    const afterOne = [...woke];
    clock.step();
    await b;

    expect(nearBefore).toBe(2);
    expect(afterOne).toEqual(['a']);
    expect(woke).toEqual(['a', 'b']);
    expect(clock.now()).toBe(100);
    expect(clock.pendingWithin(1_000)).toBe(0);
    expect(clock.pending).toBe(1);
    clock.advance(60_000);
    await far;
  });

  it('counts only the sleeps due soon when asked to wait for them', async () => {
    const clock = new ManualClock(0);
    let reached = false;
    const soon = clock.sleeping(1, { withinMs: 1_000 }).then(() => {
      reached = true;
    });

    void clock.sleep(120_000);
    await Promise.resolve();
    const afterFarSleep = reached;
    void clock.sleep(500);
    await soon;

    expect(afterFarSleep).toBe(false);
    expect(reached).toBe(true);
  });

  it('drives time from sleep to sleep while the work waits on a file in between', async () => {
    const clock = new ManualClock(0);
    const work = async (): Promise<number[]> => {
      const seen: number[] = [];
      await clock.sleep(100);
      seen.push(clock.now());
      await readFile(import.meta.filename);
      await clock.sleep(250);
      seen.push(clock.now());
      return seen;
    };

    expect(await clock.drive(work())).toEqual([100, 350]);
    expect(clock.now()).toBe(350);
  });

  it('passes on the rejection of a driven promise', async () => {
    const clock = new ManualClock(0);
    const work = async (): Promise<never> => {
      await clock.sleep(5);
      throw new Error('gave up');
    };

    await expect(clock.drive(work())).rejects.toThrow('gave up');
  });
});
