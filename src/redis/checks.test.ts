import { describe, expect, it } from 'vitest';
import { judgeRedis, type NodeSettings } from './checks.js';

const node = (over: Partial<NodeSettings>): NodeSettings => ({
  node: 'a:6379',
  maxmemoryPolicy: 'noeviction',
  configReadable: true,
  aof: true,
  rdbSave: false,
  ...over,
});
const codes = (nodes: NodeSettings[], persistence = true) =>
  judgeRedis(nodes, { persistence }).map((f) => `${f.code}${f.fatal ? '!' : ''}`);

describe('judgeRedis', () => {
  it('finds nothing wrong with noeviction and either kind of persistence', () => {
    expect(codes([node({}), node({ aof: false, rdbSave: true })])).toEqual([]);
  });

  it('refuses when any node of a Cluster may evict, naming that node and its policy', () => {
    const [finding] = judgeRedis([node({}), node({ node: 'b:6379', maxmemoryPolicy: 'allkeys-lru' })], {
      persistence: true,
    });

    expect(finding).toMatchObject({ code: 'evicting', fatal: true, nodes: ['b:6379'] });
    expect(finding?.message).toMatch(/allkeys-lru, not noeviction/);
  });

  it('only warns when the policy cannot be read, or persistence is off or cannot be read', () => {
    expect(codes([node({ maxmemoryPolicy: undefined, configReadable: false })])).toEqual([
      'eviction-unverified',
    ]);
    expect(codes([node({ aof: false, rdbSave: false })])).toEqual(['no-persistence']);
    expect(codes([node({ aof: false, rdbSave: undefined, configReadable: false })])).toEqual([
      'persistence-unverified',
    ]);
  });

  it('leaves persistence alone when asked to judge the policy only', () => {
    expect(codes([node({ aof: undefined, rdbSave: undefined })], false)).toEqual([]);
  });
});
