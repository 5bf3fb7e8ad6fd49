import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { MINUTE } from '../../src/units.js';
import { useRedis } from '../helpers/redis.js';
import { ROOT, runCli } from './helpers.js';

const INVOKE = join(ROOT, 'examples', 'jobs', 'invoke-native.jsonl');
const CONVERSE = join(ROOT, 'examples', 'jobs', 'converse.jsonl');

const ctx = useRedis();
let sim: ProfileSimulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulatorWithProfile({ profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0 }) });
  dir = mkdtempSync(join(tmpdir(), 'bj-examples-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Enqueues both example files with `enqueue FILE --wait`, as the README says, while a worker of
 * this process runs them; returns each example's result.
 */
async function runExamples() {
  const file = join(dir, `${ctx.prefix.replace(/[{}]/g, '')}.json`);
  writeFileSync(file, JSON.stringify({ prefix: ctx.prefix }));
  const env = { REDIS_URL: ctx.url, BEDROCK_ENDPOINT: sim.url, BEDROCK_JOBS_CONFIG: file };
  const config = loadConfig({ env });
  const worker = await startWorker({ config, fleetRateLimits: false });
  const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config });
  try {
    const runs = [
      await runCli(['enqueue', INVOKE, '--batch', 'invoke', '--wait'], { env }),
      await runCli(['enqueue', CONVERSE, '--batch', 'converse', '--wait'], { env }),
    ];
    return {
      codes: runs.map((r) => r.code),
      invoke: await producer.getResult('example-invoke-1'),
      converse: await producer.getResult('example-converse-1'),
    };
  } finally {
    await producer.close();
    await worker.close({ deadlineMs: 5_000 });
  }
}

// Each test starts the CLI twice (Node and tsx): generous bounds, never a failure on a slow machine.
describe('the Invoke and Converse example jobs', { timeout: 2 * MINUTE }, () => {
  it('complete on the first model of their lists', async () => {
    const { codes, invoke, converse } = await runExamples();

    expect(codes).toEqual([0, 0]);
    expect(invoke).toMatchObject({ status: 'completed', modelId: 'anthropic.claude-3-haiku-20240307-v1:0' });
    expect(converse).toMatchObject({ status: 'completed', modelId: 'amazon.nova-lite-v1:0' });
  });

  it('fall back to the next model of their lists when the first is down', async () => {
    sim.admin.addFault({ model: 'claude-3-haiku', outage: true });
    sim.admin.addFault({ model: 'nova-lite', outage: true });
    try {
      const { codes, invoke, converse } = await runExamples();

      expect(codes).toEqual([0, 0]);
      expect(invoke).toMatchObject({ status: 'completed', modelId: 'amazon.titan-text-express-v1' });
      expect(invoke?.attempts[0]).toMatchObject({ outcome: 'unavailable' });
      expect(converse).toMatchObject({ status: 'completed', modelId: 'us.meta.llama3-1-70b-instruct-v1:0' });
    } finally {
      sim.admin.reset();
    }
  });
});
