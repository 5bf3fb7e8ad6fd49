import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { startOfflineCoordinator } from '../../src/offline/coordinator.js';
import { offlineView } from '../../src/offline/view.js';
import { startWorker } from '../../src/queue/worker.js';
import { keysFor } from '../../src/redis/keys.js';
import { startSimulatorWithProfile } from '../../src/simulator/index.js';
import { MINUTE } from '../../src/units.js';
import { useRedis } from '../helpers/redis.js';
import { ROOT, runCli } from './helpers.js';

const OFFLINE = join(ROOT, 'examples', 'offline.yaml');
const CORPUS = join(ROOT, 'examples', 'corpus');

const ctx = useRedis();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bj-offline-example-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the README's offline lane example", { timeout: 2 * MINUTE }, () => {
  it('runs the corpus through batch inference and status shows the cost of both lanes', async () => {
    // As the README runs it: the simulator at time scale 600, examples/offline.yaml, a worker.
    const offlineSim = await startSimulatorWithProfile({ profile: 'steady', timeScale: 600 });
    const file = join(dir, `offline-${ctx.prefix.replace(/[{}]/g, '')}.json`);
    writeFileSync(file, JSON.stringify({ ...parseYaml(readFileSync(OFFLINE, 'utf8')), prefix: ctx.prefix }));
    const env = { REDIS_URL: ctx.url, BEDROCK_ENDPOINT: offlineSim.url, BEDROCK_JOBS_CONFIG: file };
    const config = loadConfig({ env, file });
    const worker = await startWorker({ config, fleetRateLimits: false });
    const coordinator = await startOfflineCoordinator({ config });
    try {
      const enqueue = await runCli(['enqueue', CORPUS, '--lane', 'offline', '--batch', 'nightly', '--wait'], {
        env,
        timeoutMs: 90_000,
      });
      const status = await runCli(['status', 'nightly'], { env });
      const view = await offlineView(ctx.redis, keysFor(ctx.prefix), 'nightly');

      expect(enqueue.code, enqueue.stderr).toBe(0);
      expect(status.stdout).toMatch(/^batch nightly: 217 completed, 0 failed/);
      expect(status.stdout).toMatch(/\n {2}online: {2}0 completed, 0 failed, \$0\.0000\n/);
      expect(status.stdout).toMatch(
        /\n {2}offline: 217 completed, \$[0-9.]+ \(online would have cost \$[0-9.]+\)\n/,
      );
      // The document longer than every window goes as three chunks, merged online.
      expect(status.stdout).toMatch(/invocation job 0 .*: 219 records, Completed; 219 back, 0 sent online/);
      expect(view?.invocationJobs).toEqual([expect.objectContaining({ status: 'Completed', records: 219 })]);
    } finally {
      await coordinator.close();
      await worker.close({ deadlineMs: 5_000 });
      await offlineSim.close();
    }
  });
});
