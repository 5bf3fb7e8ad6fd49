import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ClaimRequest, Claims } from '../../src/queue/claim.js';
import { keysFor } from '../../src/redis/keys.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();

function request(ids: string[]): ClaimRequest {
  return { ids, batchId: 'b', token: randomUUID(), claimTtlSeconds: 300, batchTtlSeconds: 3600 };
}

describe('claims', () => {
  it('drops only the claims its own call still holds', async () => {
    const keys = keysFor(ctx.prefix);
    const claims = new Claims(ctx.redis, keys);
    const first = request(['x', 'y']);
    // The same batch enqueued again before the first call added anything: it repairs both ids.
    const second = request(['x', 'y']);

    expect((await claims.claim(first)).codes).toEqual(['new', 'new']);
    expect((await claims.claim(second)).codes).toEqual(['repair', 'repair']);
    const droppedByFirst = await claims.drop(first, ['x', 'y']);
    const heldAfterFirst = await Promise.all(['x', 'y'].map((id) => ctx.redis.get(keys.claim(id))));
    const droppedBySecond = await claims.drop(second, ['x', 'y']);

    expect(droppedByFirst).toBe(0);
    expect(heldAfterFirst).toEqual([`${second.token}b`, `${second.token}b`]);
    expect(droppedBySecond).toBe(2);
    expect(await ctx.redis.exists(keys.claim('x'), keys.claim('y'))).toBe(0);
  });
});
