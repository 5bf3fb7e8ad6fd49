import { describe, expect, it } from 'vitest';
import { createTerminalView, type TerminalStream } from './terminal-view.js';

/** A terminal's stream that keeps what was written and can be resized. */
function fakeTerminal(columns: number) {
  const writes: string[] = [];
  const listeners = new Set<() => void>();
  const stream: TerminalStream & { columns: number } = {
    columns,
    write(chunk) {
      writes.push(chunk);
      return true;
    },
    on(_event, listener) {
      listeners.add(listener);
    },
    off(_event, listener) {
      listeners.delete(listener);
    },
  };
  const resize = (to: number) => {
    stream.columns = to;
    for (const l of listeners) l();
  };
  return { stream, writes, resize, listeners };
}

describe('createTerminalView', () => {
  it('redraws the live line in place, never writing a newline after it', () => {
    const t = fakeTerminal(80);
    const view = createTerminalView(t.stream);

    view.show(() => 'one');
    view.show(() => 'two');

    expect(t.writes).toEqual(['one', '\r\x1b[2Ktwo']);
  });

  it('prints whole lines above the live line, wrapped to the width, and draws it again below them', () => {
    const t = fakeTerminal(20);
    const view = createTerminalView(t.stream);
    view.show(() => 'bar');

    view.print('breaker opened: claude-3-haiku');

    expect(t.writes.at(-1)).toBe('\r\x1b[2Kbreaker opened:\n  claude-3-haiku\nbar');
  });

  it('draws again at the new width on a resize, clearing every row the narrower terminal wrapped it onto', () => {
    const t = fakeTerminal(120);
    const view = createTerminalView(t.stream);
    view.show((columns) => 'x'.repeat(columns - 1));

    t.resize(50);

    expect(t.writes.at(-1)).toBe(`\r\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K${'x'.repeat(49)}`);
  });

  it('ends on a clean line below the last drawing and stops following resizes', () => {
    const t = fakeTerminal(80);
    const view = createTerminalView(t.stream);
    view.show(() => 'done');

    view.finish();
    view.finish();
    t.resize(40);
    view.print('after');

    expect(t.writes).toEqual(['done', '\n', 'after\n']);
    expect(t.listeners.size).toBe(0);
  });

  it('prints lines plainly and writes no newline of its own when nothing was drawn', () => {
    const t = fakeTerminal(80);
    const view = createTerminalView(t.stream);

    view.print('redis: Redis on 127.0.0.1:6379');
    view.finish();

    expect(t.writes).toEqual(['redis: Redis on 127.0.0.1:6379\n']);
  });
});
