import { describe, expect, it } from 'vitest';
import { FaultRuleSchema } from './fault-rule.js';

describe('FaultRuleSchema', () => {
  it('names the field that is wrong', () => {
    const bad = FaultRuleSchema.safeParse({ model: '*', errorRate: { throttle: 1.5 } });
    const sum = FaultRuleSchema.safeParse({ model: '*', errorRate: { throttle: 0.6, internal: 0.6 } });
    const window = FaultRuleSchema.safeParse({ model: '*', outage: true, fromMs: 5, toMs: 1 });
    const regex = FaultRuleSchema.safeParse({ model: '*', contentFilter: { pattern: '(' } });

    expect(bad.error?.issues[0]?.path).toEqual(['errorRate', 'throttle']);
    expect(sum.error?.issues[0]?.message).toMatch(/add up to more than 1/);
    expect(window.error?.issues[0]?.path).toEqual(['toMs']);
    expect(regex.error?.issues[0]?.path).toEqual(['contentFilter', 'pattern']);
  });

  it('refuses a rule that does nothing or has unknown fields', () => {
    expect(FaultRuleSchema.safeParse({ model: '*' }).success).toBe(false);
    expect(FaultRuleSchema.safeParse({ model: '*', outage: true, outages: true }).success).toBe(false);
  });
});
