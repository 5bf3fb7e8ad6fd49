import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ProfileSchema, startSimulatorWithProfile } from '../../src/simulator/index.js';

const SCRIPT = fileURLToPath(new URL('./boto3_batch_smoke.py', import.meta.url));
const probe = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
const hasBoto3 = probe.status === 0;

describe('boto3 against the simulated S3 and model invocation jobs', () => {
  if (!hasBoto3) {
    it('needs python3 with boto3 installed to run boto3_batch_smoke.py', () => {
      expect(probe.status).not.toBe(0);
    });
    return;
  }

  it('uploads with botocore, runs a job to Completed once for a repeated token, and reads its output', async () => {
    const sim = await startSimulatorWithProfile({
      profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0 }),
      timeScale: 1_000_000,
    });
    try {
      const { stdout } = await promisify(execFile)('python3', [SCRIPT, sim.url], { timeout: 60_000 });
      const out = JSON.parse(stdout);

      expect(out).toMatchObject({
        alreadyOwned: true,
        streamed: 'streamed body',
        listed: ['in/records.jsonl', 'in/stream.bin'],
        noSuchKey: true,
        sameArn: true,
        status: 'Completed',
        successRecordCount: 100,
        listedCompleted: 1,
        firstOutput: 'message',
      });
      expect(out.manifest).toMatchObject({
        totalRecordCount: 100,
        successRecordCount: 100,
        errorRecordCount: 0,
      });
      expect(sim.admin.stats().batch.total.jobsCreated).toBe(1);
    } finally {
      await sim.close();
    }
  });
});
