import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { FleetStatsWriter } from '../../src/metrics/fleet-stats-writer.js';
import { keysFor } from '../../src/redis/keys.js';
import { MINUTE } from '../../src/units.js';
import { useRedis } from '../helpers/redis.js';
import { jsonLines, runCli } from './helpers.js';

const CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0';
// Llama 3.1 70B is served in us-east-1 through its `us.` profile only.
const LLAMA = 'us.meta.llama3-1-70b-instruct-v1:0';

const ctx = useRedis();

/** What a worker of the fleet would have written: three calls to Claude, one fallback. */
async function someCalls(): Promise<void> {
  const redis = new Redis(ctx.url);
  const writer = new FleetStatsWriter({
    redis,
    keys: keysFor(ctx.prefix),
    flushMs: 60_000,
    retentionSeconds: 3_600,
  });
  await writer.start();
  writer.call(CLAUDE, 'ok', 40);
  writer.call(CLAUDE, 'ok', 40);
  writer.call(CLAUDE, 'throttled', 2);
  writer.fallback(CLAUDE, LLAMA);
  await writer.close();
  await redis.quit();
}

function env(): Record<string, string> {
  const config = join(mkdtempSync(join(tmpdir(), 'bj-stats-')), 'config.json');
  writeFileSync(config, JSON.stringify({ prefix: ctx.prefix }));
  return { REDIS_URL: ctx.url, BEDROCK_JOBS_CONFIG: config };
}

describe('the fleet stats in the CLI', { timeout: 2 * MINUTE }, () => {
  it('shows the last minutes of each model in models and status, as JSON and as text', async () => {
    await someCalls();
    const e = env();

    const [models, status, text] = await Promise.all([
      runCli(['--json', 'models'], { env: e }),
      runCli(['status', '--json'], { env: e }),
      runCli(['status'], { env: e }),
    ]);
    const [listing] = jsonLines(models.stdout) as { stats?: Record<string, unknown> }[];
    const [counts] = jsonLines(status.stdout) as { stats?: Record<string, unknown> }[];

    const short = { calls: 3, ok: 2, throttles: 1, errors: { throttled: 1 }, refused: 0, fallbacksOut: 1 };
    expect(models.code).toBe(0);
    expect(listing?.stats?.[CLAUDE]).toMatchObject({ '1m': short, '5m': short });
    expect(status.code).toBe(0);
    expect(counts?.stats?.[CLAUDE]).toMatchObject({ '1m': short });
    expect(text.stdout).toContain(
      `${CLAUDE}: 1m: 3 calls, 1 failed (1 throttled), 0 refused, 1 fallbacks out`,
    );
  });
});
