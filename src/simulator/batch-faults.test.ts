import { describe, expect, it } from 'vitest';
import { BatchFaultSchema, planBatch } from './batch-faults.js';
import { FaultRuleSchema } from './fault-rule.js';

const rule = (ruleId: string, fault: unknown) => ({ ruleId, fault: BatchFaultSchema.parse(fault) });
const ids = Array.from({ length: 1000 }, (_, i) => `rec-${i}`);

describe('planBatch', () => {
  it('picks the same records for the same seed, rule, job name and records, about the rate asked', () => {
    const picked = (jobName: string, seed: number) =>
      ids.filter((id) => planBatch([rule('f1', { recordErrorRate: 0.1 })], jobName, seed).recordError(id));

    const first = picked('job-a', 1);
    expect(picked('job-a', 1)).toEqual(first);
    expect(picked('job-b', 1)).not.toEqual(first);
    expect(first.length).toBeGreaterThan(60);
    expect(first.length).toBeLessThan(140);
  });

  it('gives the error the rule names, and picks records by id pattern', () => {
    const plan = planBatch([rule('f1', { recordIdPattern: '^rec-1$', recordError: { code: 429 } })], 'j', 1);

    expect(plan.recordError('rec-1')).toEqual({ errorCode: 429, errorMessage: expect.any(String) });
    expect(plan.recordError('rec-10')).toBeUndefined();
    expect(plan.kinds).toEqual(['recordErrors']);
  });

  it('fails or expires only the jobs whose name matches', () => {
    const rules = [
      rule('f1', { jobNamePattern: '^nightly-', fail: {} }),
      rule('f2', { expire: true, jobNamePattern: 'x$' }),
    ];

    expect(planBatch(rules, 'nightly-1', 1)).toMatchObject({
      failMessage: expect.any(String),
      expire: false,
    });
    expect(planBatch(rules, 'box', 1)).toMatchObject({ expire: true, kinds: ['expire'] });
    expect(planBatch(rules, 'other', 1).kinds).toEqual([]);
  });
});

describe('a fault rule with batch faults', () => {
  it('is a rule of its own, and needs at least one fault', () => {
    expect(FaultRuleSchema.safeParse({ model: '*', batch: { expire: true } }).success).toBe(true);
    expect(FaultRuleSchema.safeParse({ model: '*', batch: { jobNamePattern: 'x' } }).success).toBe(false);
    expect(FaultRuleSchema.safeParse({ model: '*', batch: { recordIdPattern: '(' } }).success).toBe(false);
  });
});
