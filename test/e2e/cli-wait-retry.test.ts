import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConfigInput, loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { MINUTE } from '../../src/units.js';
import { ask } from '../helpers/batches.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';
import { jsonLines, runCli } from './helpers.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
const TITAN = 'amazon.titan-text-express-v1';
const dir = mkdtempSync(join(tmpdir(), 'bj-wait-retry-'));

/** The settings of this test, as a file the CLI reads and as the config the in-process worker gets. */
function setup() {
  const settings: ConfigInput = {
    prefix: ctx.prefix,
    endpoint: pipe.sim.url,
    chains: { default: ['titan-express'] },
    policy: {
      retry: { maxAttempts: 1, baseDelayMs: 1, throttleBaseDelayMs: 1, maxDelayMs: 5 },
      breaker: { consecutiveFailures: 1_000 },
    },
    worker: { concurrency: 4, shutdownTimeoutMs: 5_000, jobAttempts: 1, busyBackoffMs: 50 },
  };
  const file = join(dir, `${ctx.prefix.replace(/[{}]/g, '')}.json`);
  writeFileSync(file, JSON.stringify(settings));
  const config = loadConfig({ env: {}, overrides: { ...settings, redisUrl: ctx.url } });
  return { config, env: { REDIS_URL: ctx.url, BEDROCK_JOBS_CONFIG: file } };
}

function jobsFile(name: string, ids: string[]): string {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, ids.map((id) => JSON.stringify(ask(id))).join('\n'));
  return file;
}

// Each test starts the CLI (Node and tsx): generous bounds, so a slow machine is never a failure.
describe('waiting with a timeout, and retrying failed jobs, from the CLI', { timeout: 2 * MINUTE }, () => {
  it('enqueue --wait --timeout stops waiting, exits 4 with what is unfinished, and leaves the jobs queued', async () => {
    const { env, config } = setup();
    const file = jobsFile('unserved', ['u-1', 'u-2', 'u-3']);
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));

    // No worker runs: the batch cannot end, whatever the time.
    const run = await runCli(['enqueue', file, '--batch', 'unserved', '--wait', '--timeout', '1s'], { env });
    const left = await producer.getBatch('unserved');
    const queued = await ctx.redis.llen(`${ctx.prefix}:jobs:wait`);

    expect(run.code).toBe(4);
    expect(run.stderr).toContain(
      'batch unserved not finished after 1s: 0/3 done, 3 waiting. Its jobs stay queued; follow it with: bedrock-jobs status unserved --watch',
    );
    expect(left).toEqual({ batchId: 'unserved', total: 3, completed: 0, failed: 0 });
    expect(queued).toBe(3);
  });

  it('status --watch --timeout exits 4 with the same line', async () => {
    const { env, config } = setup();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    await producer.enqueueBatch([ask('w-1')], { batchId: 'watched' });

    const run = await runCli(['status', 'watched', '--watch', '--timeout', '1s'], { env });

    expect(run.code).toBe(4);
    expect(run.stderr).toContain('batch watched not finished after 1s: 0/1 done, 1 waiting.');
  });

  it('enqueue --retry-failed re-enqueues the failed jobs once the model is back and --wait sees the batch end again', async () => {
    const { env, config } = setup();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });
    const fault = pipe.sim.admin.addFault({ model: TITAN, outage: true });
    await producer.enqueueBatch([ask('r-1'), ask('r-2'), ask('r-3')], { batchId: 'outage' });
    await producer.waitForBatch('outage', { pollMs: 200 });
    pipe.sim.admin.removeFault(fault);

    const some = await runCli(['enqueue', '--retry-failed', 'outage', '--ids', 'r-1,nope', '--wait'], {
      env,
    });
    const rest = await runCli(
      ['--json', 'enqueue', '--retry-failed', 'outage', '--wait', '--timeout', '2m'],
      {
        env,
      },
    );

    // --wait exits 3 while some jobs of the batch stay failed.
    expect(some.code).toBe(3);
    expect(some.stdout).toContain(
      'batch outage: 1 failed jobs enqueued again; left alone: 1 not in the batch (nope)',
    );
    expect(some.stdout).toContain('batch outage: 1 completed, 2 failed of 3');
    expect(rest.code).toBe(0);
    expect(jsonLines(rest.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ batchId: 'outage', retried: 2, completed: 1 }),
        { done: { batchId: 'outage', total: 3, completed: 3, failed: 0 } },
      ]),
    );
  });

  it('refuses --retry-failed with an unknown batch (exit 1), a bad id (exit 2) or an input (exit 2)', async () => {
    const { env } = setup();
    const file = jobsFile('extra', ['e-1']);

    const unknown = await runCli(['enqueue', '--retry-failed', 'nothing-here'], { env });
    const badId = await runCli(['enqueue', '--retry-failed', 'b', '--ids', 'fine,no:colon'], { env });
    const withInput = await runCli(['enqueue', file, '--retry-failed', 'b'], { env });

    expect([unknown.code, badId.code, withInput.code]).toEqual([1, 2, 2]);
    expect(unknown.stderr).toContain('--retry-failed: no batch nothing-here');
    expect(badId.stderr).toContain('--ids (id 2): must not contain ":"');
    expect(withInput.stderr).toContain(
      "--retry-failed: retries the batch's own jobs, so it takes no FILE, DIR or -",
    );
  });
});
