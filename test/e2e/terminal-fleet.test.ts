import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { shortModelName } from '../../src/cli/progress-layout.js';
import { systemClock } from '../../src/clock.js';
import { DEFAULT_CHAIN, loadConfig } from '../../src/config.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { FleetBreakers } from '../../src/resilience/fleet-breaker.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';
import { BIN } from './helpers.js';
import { barLines, TmuxTerminal } from './tmux.js';

/** The default chain's first model: the watchers follow the breakers of the chains' models. */
const HAIKU = DEFAULT_CHAIN[0];
const NAME = shortModelName(HAIKU).replace(/[.]/g, '\\.');
const JOBS = 5;

const ctx = useRedis();
const pipe = usePipeline();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const opened = (l: string) => new RegExp(`^breaker opened: ${NAME}; next probe in \\d+ s$`).test(l);
const closed = (l: string) => l === `breaker closed: ${shortModelName(HAIKU)} is back`;

describe('enqueue --wait and status --watch on a terminal', () => {
  it("show the fleet's breaker going down and coming back above one bar, and end on a clean line", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bj-fleet-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify({ prefix: ctx.prefix, endpoint: pipe.sim.url }));
    const jobsFile = join(dir, 'jobs.jsonl');
    const lines = Array.from({ length: JOBS }, (_, i) =>
      JSON.stringify({
        id: `j${i}`,
        task: 'generate',
        messages: [{ role: 'user', content: `Question ${i}` }],
      }),
    );
    await writeFile(jobsFile, `${lines.join('\n')}\n`);
    const env = { REDIS_URL: ctx.url, LOG_LEVEL: 'warn' };
    const start = async (args: string[]) => {
      const term = await TmuxTerminal.start([process.execPath, BIN, '--config', configFile, ...args], {
        columns: 80,
        rows: 40,
        env,
      });
      cleanups.push(() => term.close());
      return term;
    };
    const redis = new Redis(ctx.url);
    cleanups.push(async () => void (await redis.quit()));
    const breakers = new FleetBreakers({
      redis,
      prefix: ctx.prefix,
      owner: 'test',
      refreshMs: 0,
      probeTimeoutMs: 1_000,
      localClock: systemClock,
    });

    // No worker yet: both wait at 0 of 5.
    const enqueue = await start(['enqueue', jobsFile, '--batch', 'watched', '--wait']);
    await enqueue.waitForScreen((s) => barLines(s).some((l) => l.includes(`0/${JOBS} done`)), 30_000);
    const status = await start(['status', 'watched', '--watch']);
    await status.waitForScreen((s) => barLines(s).some((l) => l.includes(`0/${JOBS} done`)), 30_000);
    // Another worker of the fleet finds the primary dead, then its probe finds it well.
    await breakers.opened(HAIKU, 60_000);
    for (const term of [enqueue, status]) await term.waitForScreen((s) => s.some(opened), 30_000);
    await redis.del(keysFor(ctx.prefix).breaker(HAIKU));
    for (const term of [enqueue, status]) await term.waitForScreen((s) => s.some(closed), 30_000);
    const config = loadConfig({
      env: {},
      overrides: { redisUrl: ctx.url, prefix: ctx.prefix, endpoint: pipe.sim.url },
    });
    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const codes = [await enqueue.exited(60_000), await status.exited(60_000)];
    const [enqueueScreen, statusScreen] = [await enqueue.screen(), await status.screen()];

    expect(codes).toEqual([0, 0]);
    for (const screen of [enqueueScreen, statusScreen]) {
      for (const line of screen) expect(line.length, screen.join('\n')).toBeLessThanOrEqual(80);
      const bars = barLines(screen);
      expect(bars, screen.join('\n')).toHaveLength(1);
      expect(bars[0]).toMatch(new RegExp(`^█+ 100% \\| ${JOBS}/${JOBS} done, 0 failed`));
      const bar = screen.indexOf(bars[0] ?? '');
      const notices = screen.slice(0, bar).filter((l) => l.startsWith('breaker '));
      expect(notices, screen.join('\n')).toHaveLength(2);
      expect(opened(notices[0] ?? '')).toBe(true);
      expect(closed(notices[1] ?? '')).toBe(true);
    }
    expect(enqueueScreen.at(-1)).toBe(`batch watched: ${JOBS} completed, 0 failed of ${JOBS}`);
    expect(enqueueScreen.at(-2)).toBe(barLines(enqueueScreen)[0]);
    expect(statusScreen.at(-1)).toBe(
      `batch watched: ${JOBS} completed, 0 failed, 0 active, 0 waiting of ${JOBS}`,
    );
    expect(statusScreen.at(-2)).toBe(barLines(statusScreen)[0]);
  }, 120_000);
});
