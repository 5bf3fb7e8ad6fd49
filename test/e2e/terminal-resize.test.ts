import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { barLines, TmuxTerminal } from './tmux.js';

// The demo on a terminal is in demo.test.ts, with the other demos; enqueue --wait and
// status --watch in terminal-fleet.test.ts.
const FIXTURE = join(ROOT, 'test', 'fixtures', 'progress-resize.ts');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the terminal view', () => {
  it('fits the bar again when the terminal narrows, leaving no piece of the wider one behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bj-resize-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const resized = join(dir, `resized-${randomUUID()}`);
    const term = await TmuxTerminal.start([process.execPath, '--import', 'tsx', FIXTURE, resized], {
      columns: 120,
      rows: 50,
      env: {},
    });
    cleanups.push(() => term.close());
    const wide = await term.waitForScreen(
      (lines) => barLines(lines).some((l) => l.includes('40/100')),
      30_000,
    );

    await term.resize(70, 50);
    await expect.poll(() => readFile(resized, 'utf8').catch(() => ''), { timeout: 30_000 }).toContain('70');
    const narrow = await term.screen();
    await term.type('g');
    const code = await term.exited(30_000);
    const final = await term.screen();

    expect(barLines(wide)[0]?.length).toBeGreaterThan(100);
    expect(barLines(narrow), narrow.join('\n')).toHaveLength(1);
    // Lines printed before the resize stay as the terminal re-wraps them; the bar is drawn anew.
    expect(barLines(narrow)[0]?.length).toBeLessThan(70);
    expect(code, final.join('\n')).toBe(0);
    expect(barLines(final), final.join('\n')).toHaveLength(1);
    for (const line of final.slice(2)) expect(line.length, final.join('\n')).toBeLessThan(70);
    expect(final).toEqual([
      'header: a line before the bar',
      'breaker opened: claude-3-haiku-20240307 (unavailable); next probe in 5 s',
      'breaker closed: claude-3-haiku-20240307 is back',
      expect.stringMatching(/^█+ 100% \| 100\/100 done, 2 failed \| 5\.0\/s/),
      '  summary      98 completed, 2 failed',
      '  last row',
    ]);
  }, 60_000);
});
