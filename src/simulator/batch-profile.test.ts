import { describe, expect, it } from 'vitest';
import { createControl } from './behaviour.js';
import { ProfileSchema } from './profiles.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const TITAN = 'amazon.titan-text-express-v1';

describe("a profile's batch settings", () => {
  it("gives every model Bedrock's default quotas, and takes batch from models Bedrock runs no jobs for", () => {
    const { batch } = createControl();

    expect(batch?.limits(HAIKU)).toEqual({
      supported: true,
      minRecords: 100,
      maxRecords: 50_000,
      maxInputFileBytes: 1_073_741_824,
      maxConcurrentJobs: 10,
    });
    expect(batch?.limits(TITAN).supported).toBe(false);
    expect(batch?.timing).toEqual({
      submittedMs: 60_000,
      validatingMs: 120_000,
      scheduledMs: 300_000,
      perRecordMs: 1_000,
    });
  });

  it('changes quotas per model (alias or id, `*` for all) and timing, and the admin API changes them at run time', () => {
    const profile = ProfileSchema.parse({
      batch: { perRecordMs: 10 },
      models: { '*': { batch: { minRecords: 5 } }, 'claude-3-haiku': { batch: { maxConcurrentJobs: 2 } } },
    });
    const behaviour = createControl({ profile, timeScale: 100 });
    behaviour.admin.setModel(TITAN, { batch: { supported: true } });

    expect(behaviour.batch?.limits(HAIKU)).toMatchObject({ minRecords: 5, maxConcurrentJobs: 2 });
    expect(behaviour.batch?.limits(TITAN)).toMatchObject({ supported: true, minRecords: 5 });
    expect(behaviour.batch).toMatchObject({
      timeScale: 100,
      timing: { perRecordMs: 10, submittedMs: 60_000 },
    });
  });

  it('refuses unknown keys and impossible values', () => {
    expect(ProfileSchema.safeParse({ batch: { perRecordMs: -1 } }).success).toBe(false);
    expect(ProfileSchema.safeParse({ batch: { queuedMs: 1 } }).success).toBe(false);
    expect(ProfileSchema.safeParse({ models: { [HAIKU]: { batch: { minRecords: 0 } } } }).success).toBe(
      false,
    );
  });

  it('counts jobs and records in the admin stats, per model key', () => {
    const behaviour = createControl();
    behaviour.batch?.job(`us.${HAIKU}`, 'created');
    behaviour.batch?.records(`us.${HAIKU}`, { ok: 3, errors: 1, inputTokens: 40, outputTokens: 12 });
    behaviour.batch?.job(`us.${HAIKU}`, 'Completed');

    expect(behaviour.admin.stats().batch.models[`us.${HAIKU}`]).toEqual({
      jobsCreated: 1,
      jobsEnded: { Completed: 1 },
      recordsProcessed: 4,
      recordsSucceeded: 3,
      recordsFailed: 1,
      inputTokens: 40,
      outputTokens: 12,
    });
    behaviour.admin.resetStats();
    expect(behaviour.admin.stats().batch.total.jobsCreated).toBe(0);
  });
});
