import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisUrl } from '../helpers/redis.js';
import { jsonLines, runCli } from './helpers.js';

interface DemoSummary {
  batchId: string;
  documents: number;
  completed: number;
  failed: number;
  perModel: Record<string, number>;
  fallbacks: number;
  wallSeconds: number;
}

let batchId: string | undefined;
let url: string | undefined;

afterAll(async () => {
  if (!batchId || !url) return;
  // The demo keeps its results for an hour under the default prefix; this run's are removed now.
  const redis = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{bj}:*${batchId}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
});

describe('npm run demo', () => {
  it('summarizes the whole corpus through an outage of the primary model, headless', async () => {
    url = await redisUrl();

    const run = await runCli(['--json', 'demo', '--time-scale', '8'], {
      env: { REDIS_URL: url },
      timeoutMs: 150_000,
    });
    const summary = jsonLines(run.stdout).find((l) => 'summary' in l)?.summary as DemoSummary | undefined;
    batchId = summary?.batchId;

    expect(run.code, run.stderr.slice(-2_000)).toBe(0);
    expect(summary).toBeDefined();
    expect(summary?.documents).toBe(217);
    expect(summary?.completed).toBe(217);
    expect(summary?.failed).toBe(0);
    expect(Object.keys(summary?.perModel ?? {}).length).toBeGreaterThan(1);
    expect(summary?.fallbacks).toBeGreaterThan(0);
    // How long it takes depends on the machine and its load: bench/demo.ts measures that.
    expect(summary?.wallSeconds).toBeGreaterThan(0);
    expect(
      jsonLines(run.stdout).some((l) => typeof l.event === 'string' && l.event.startsWith('outage injected')),
    ).toBe(true);
  }, 180_000);
});
