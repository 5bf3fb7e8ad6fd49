import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { catalogMarkdown } from '../../src/models/catalog-doc.js';
import { startWorker } from '../../src/queue/worker.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { useRedis } from '../helpers/redis.js';
import { jsonLines, runCli } from './helpers.js';

// The default chain's models: Claude Haiku 4.5 (not enabled here), Llama 3.3 70B (served through
// its `us.` profile in us-east-1) and Nova Lite.
const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const LLAMA = 'meta.llama3-3-70b-instruct-v1:0';
const TITAN = 'amazon.nova-lite-v1:0';

const ctx = useRedis();
let sim: ProfileSimulator;
let dir: string;

/** A config file for the CLI, removed with the others after the file's tests. */
function configFile(name: string, config: Record<string, unknown>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'models-check-'));
  sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { [HAIKU]: { enabled: false } } }),
  });
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI against this file's simulator and the test Redis (a config file names the prefix). */
function env(): Record<string, string> {
  return { BEDROCK_ENDPOINT: sim.url, REDIS_URL: ctx.url, AWS_REGION: 'us-east-1' };
}

interface Access {
  id: string;
  status: string;
  reason?: string;
  profile?: { regions: string[] };
}

describe('bedrock-jobs models --check / --probe', () => {
  it('reports a model that is not enabled as unusable and an enabled one as usable, per chain and profile', async () => {
    const run = await runCli(['--json', 'models', '--check', '--probe'], { env: env() });
    const [out] = jsonLines(run.stdout) as unknown as {
      models: { id: string; lifecycle: string; access: Access }[];
      check: { status: string; chains: Record<string, Access[]> };
      probes: { chain: string; id: string; outcome: string; httpStatus?: number }[];
    }[];

    expect(run.stderr).toBe('');
    expect(run.code).toBe(3);
    expect(out?.check.status).toBe('checked');
    expect(out?.models.find((m) => m.id === HAIKU)?.access).toMatchObject({
      status: 'unusable',
      reason: expect.stringMatching(/NOT_AUTHORIZED/),
    });
    expect(out?.models.find((m) => m.id === TITAN)?.access).toMatchObject({ status: 'usable' });
    expect(out?.models.find((m) => m.id === TITAN)?.lifecycle).toBe('ACTIVE');
    expect(out?.check.chains.default?.map((a) => [a.id, a.status])).toEqual([
      [HAIKU, 'unusable'],
      [`us.${LLAMA}`, 'usable'],
      [TITAN, 'usable'],
    ]);
    expect(out?.probes.map((p) => [p.id, p.outcome])).toEqual([
      [HAIKU, 'access_denied'],
      [`us.${LLAMA}`, 'ok'],
      [TITAN, 'ok'],
    ]);
    expect(out?.probes[0]?.httpStatus).toBe(403);
  });

  it('shows where a profile in a chain routes, and exits 0 when every chain model is usable', async () => {
    const file = configFile('profile-chain.json', { chains: { default: [`us.${LLAMA}`, TITAN] } });

    const run = await runCli(['--config', file, 'models', '--check'], { env: env() });

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`1\\. us\\.${LLAMA.replace(/\./g, '\\.')}  usable  → us-east-1, us-east-2, us-west-2`),
    );
    expect(run.stdout).toMatch(/2\. amazon\.nova-lite-v1:0 {2}usable/);
  });

  it('exits 1 and says why when the control plane does not answer', async () => {
    const denied = await startSimulatorWithProfile({ controlPlane: { access: 'denied' } });
    try {
      const run = await runCli(['models', '--check'], { env: { ...env(), BEDROCK_ENDPOINT: denied.url } });

      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/not reachable \(no permission for bedrock:ListFoundationModels\)/);
    } finally {
      await denied.close();
    }
  });

  it('prints with --markdown exactly the tables the README shows', async () => {
    const run = await runCli(['models', '--markdown'], { env: env() });

    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${catalogMarkdown(new ModelCatalog())}\n`);
  });

  it('shows the preflight a worker made in status --json and models', async () => {
    const file = configFile('prefix.json', { prefix: ctx.prefix });
    const config = loadConfig({ env: env(), file });
    const worker = await startWorker({ config, fleetRateLimits: false });

    try {
      const status = await runCli(['--config', file, '--json', 'status'], { env: env() });
      const models = await runCli(['--config', file, 'models'], { env: env() });
      const [s] = jsonLines(status.stdout) as unknown as {
        preflight: { status: string; models: Access[] };
      }[];

      expect(s?.preflight.status).toBe('checked');
      expect(s?.preflight.models.find((m) => m.id === HAIKU)?.status).toBe('unusable');
      expect(models.stdout).toMatch(
        /chain default:\n {4}anthropic\.claude-haiku-4-5-20251001-v1:0: unusable/,
      );
    } finally {
      await worker.close({ deadlineMs: 5_000 });
    }
  });
});
