import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { vi } from 'vitest';
import { ROOT } from './helpers.js';

const run = promisify(execFile);

/** Characters of the progress bar: a line holding one of them is a bar line. */
export const BAR_CHARS = /[█░]/;

/**
 * A real terminal for a command: a detached tmux session of its own server (its own socket in a
 * temp folder, so nothing of any other tmux is touched), `columns` × `rows`, that stays after the command exits
 * so its last screen can be read. `screen()` gives the lines as the terminal holds them, each
 * row wrapped by the terminal joined back into one line, so a line too wide shows as one.
 */
export class TmuxTerminal {
  private constructor(
    private readonly socket: string,
    private readonly dir: string,
  ) {}

  /** Where the command's exit status is written when it ends. */
  private get statusFile(): string {
    return join(this.dir, 'status');
  }

  static async start(
    command: readonly string[],
    options: { columns: number; rows: number; env: Record<string, string> },
  ): Promise<TmuxTerminal> {
    const dir = await mkdtemp(join(tmpdir(), 'bj-tmux-'));
    const conf = join(dir, 'tmux.conf');
    // Kept after exit, so the screen can be read; a scrollback that holds the whole run.
    await writeFile(conf, 'set -g remain-on-exit on\nset -g history-limit 10000\nset -g status off\n');
    // The server's socket lives in the same folder, so close() leaves nothing behind.
    const term = new TmuxTerminal(join(dir, 'socket'), dir);
    const env = Object.entries(options.env).map(([k, v]) => `${k}=${v}`);
    await term.tmux(
      '-f',
      conf,
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      String(options.columns),
      '-y',
      String(options.rows),
      '-c',
      ROOT,
      'env',
      ...env,
      // The exit status goes to a file: tmux's own pane status is not always there once the
      // pane is dead (seen on a loaded machine), and a file is.
      'sh',
      '-c',
      '"$@"; echo $? > "$0"',
      term.statusFile,
      ...command,
    );
    return term;
  }

  private async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run('tmux', ['-S', this.socket, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color' },
    });
    return stdout;
  }

  /**
   * The screen and its scrollback, wrapped rows joined, trailing blank lines and tmux's own
   * line about an exited command dropped.
   */
  async screen(): Promise<string[]> {
    const text = await this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'main');
    const lines = text
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => !l.startsWith('Pane is dead'));
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines;
  }

  /** Polls the screen until `test` holds; returns that screen. */
  async waitForScreen(test: (lines: string[]) => boolean, timeoutMs: number): Promise<string[]> {
    return vi.waitFor(
      async () => {
        const lines = await this.screen();
        if (!test(lines)) throw new Error(`not yet; the screen is:\n${lines.join('\n')}`);
        return lines;
      },
      { timeout: timeoutMs, interval: 100 },
    );
  }

  /** Polls until the command has exited; returns its exit status (128 + n for signal n). */
  async exited(timeoutMs: number): Promise<number> {
    return vi.waitFor(
      async () => {
        const status = await readFile(this.statusFile, 'utf8').catch(() => '');
        if (!status.endsWith('\n'))
          throw new Error(`still running; the screen is:\n${(await this.screen()).join('\n')}`);
        return Number(status.trim());
      },
      { timeout: timeoutMs, interval: 200 },
    );
  }

  /** Resizes the terminal, as a user dragging its window would (the command gets SIGWINCH). */
  async resize(columns: number, rows: number): Promise<void> {
    await this.tmux('resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows));
  }

  /** Types keys into the command's standard input. */
  async type(keys: string): Promise<void> {
    await this.tmux('send-keys', '-t', 'main', keys);
  }

  /** Ends this terminal's own tmux server and removes its files. */
  async close(): Promise<void> {
    await this.tmux('kill-server').catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The lines of a screen that hold part of a progress bar. */
export const barLines = (lines: readonly string[]): string[] => lines.filter((l) => BAR_CHARS.test(l));
