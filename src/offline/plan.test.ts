import { describe, expect, it } from 'vitest';
import { type GroupLimits, type PlanEntry, planParts } from './plan.js';

const limits: GroupLimits = { minRecords: 3, maxRecords: 10, maxBytes: 1_000 };
const entries = (group: string, n: number, bytes = 10): PlanEntry[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${group}-${i}`, group, bytes }));

describe('planParts', () => {
  it('makes one part per model when each fits one invocation job', () => {
    const plan = planParts([...entries('a', 5), ...entries('b', 4)], () => limits);

    expect(plan.parts.map((p) => [p.group, p.ids.length])).toEqual([
      ['a', 5],
      ['b', 4],
    ]);
    expect(plan.online).toEqual([]);
  });

  it('sends a model with fewer calls than the minimum online, saying why', () => {
    const plan = planParts([...entries('a', 5), ...entries('b', 2)], () => limits);

    expect(plan.parts.map((p) => p.group)).toEqual(['a']);
    expect(plan.online).toEqual([
      { id: 'b-0', reason: 'fewer than 3 records for one invocation job (2)' },
      { id: 'b-1', reason: 'fewer than 3 records for one invocation job (2)' },
    ]);
  });

  it('cuts a group over the record limit into even parts, none below the minimum', () => {
    const plan = planParts(entries('a', 21), () => limits);

    expect(plan.parts.map((p) => p.ids.length)).toEqual([7, 7, 7]);
    expect(plan.parts.flatMap((p) => p.ids)).toEqual(entries('a', 21).map((e) => e.id));
  });

  it('keeps every file within the byte limit', () => {
    const plan = planParts(entries('a', 9, 300), () => limits);

    expect(plan.parts.map((p) => p.ids.length)).toEqual([3, 3, 3]);
    expect(plan.parts.every((p) => p.bytes <= limits.maxBytes)).toBe(true);
  });

  it('sends a record larger than a whole file online', () => {
    const plan = planParts([...entries('a', 3), { id: 'huge', group: 'a', bytes: 5_000 }], () => limits);

    expect(plan.parts[0]?.ids).toHaveLength(3);
    expect(plan.online).toEqual([{ id: 'huge', reason: 'its record is larger than an input file may be' }]);
  });

  it('uses each group its own minimum', () => {
    const plan = planParts([...entries('a', 4), ...entries('b', 4)], (g) =>
      g === 'b' ? { ...limits, minRecords: 5 } : limits,
    );

    expect(plan.parts.map((p) => p.group)).toEqual(['a']);
    expect(plan.online).toHaveLength(4);
  });

  it("keeps a document's chunks together: one chunk online takes the others, and a part left too short, online", () => {
    const chunk = (doc: string, k: number, bytes = 10): PlanEntry => ({
      id: `${doc}:${k}/3`,
      group: 'a',
      bytes,
      unit: doc,
    });
    const plan = planParts(
      [
        ...entries('a', 2),
        chunk('x', 0),
        chunk('x', 1, 5_000),
        chunk('x', 2),
        chunk('y', 0),
        chunk('y', 1),
        chunk('y', 2),
      ],
      () => limits,
    );
    const alone = planParts(
      [
        ...entries('b', 2),
        { id: 'z:0/2', group: 'b', bytes: 10, unit: 'z' },
        { id: 'z:1/2', group: 'b', bytes: 5_000, unit: 'z' },
      ],
      () => limits,
    );

    expect(plan.parts.map((p) => p.ids)).toEqual([['a-0', 'a-1', 'y:0/3', 'y:1/3', 'y:2/3']]);
    expect(plan.parts[0]?.bytes).toBe(50);
    expect(plan.online).toEqual([
      { id: 'x:1/3', reason: 'its record is larger than an input file may be' },
      { id: 'x:0/3', reason: 'another chunk of its document runs online' },
      { id: 'x:2/3', reason: 'another chunk of its document runs online' },
    ]);
    expect(alone.parts).toEqual([]);
    expect(alone.online.map((o) => o.id).sort()).toEqual(['b-0', 'b-1', 'z:0/2', 'z:1/2']);
  });
});
