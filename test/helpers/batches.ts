import type { Redis } from 'ioredis';
import { keysFor } from '../../src/redis/keys.js';
import type { ResultRecordInput } from '../../src/results/record.js';
import { parseResultsEntry, type ResultsEntry } from '../../src/results/stream-entry.js';

/** A valid result record for `id`, as a worker would save it. */
export function resultFor(id: string, batchId: string, status: 'completed' | 'failed'): ResultRecordInput {
  const now = '2026-01-01T00:00:00.000Z';
  return {
    id,
    batchId,
    status,
    text: status === 'completed' ? 'ok' : null,
    stopReason: status === 'completed' ? 'end_turn' : null,
    modelId: status === 'completed' ? 'amazon.nova-micro-v1:0' : null,
    attempts: [],
    usage: { inputTokens: 1, outputTokens: 1 },
    costUsd: 0,
    enqueuedAt: now,
    startedAt: now,
    finishedAt: now,
    ...(status === 'failed' ? { error: 'failed on purpose', errorKind: 'access_denied' as const } : {}),
  };
}

/** Every entry of the results stream under `prefix`, parsed. */
export async function streamEntries(redis: Redis, prefix: string): Promise<ResultsEntry[]> {
  const raw = await redis.xrange(keysFor(prefix).results, '-', '+');
  return raw.map(([id, fields]) => parseResultsEntry(id, fields)).filter((e) => e !== undefined);
}

/** The `done` entries of one batch on the results stream. */
export async function doneEntries(redis: Redis, prefix: string, batchId: string): Promise<ResultsEntry[]> {
  return (await streamEntries(redis, prefix)).filter((e) => e.type === 'done' && e.batchId === batchId);
}

/** A generate job that the simulator answers. */
export function ask(id: string, content = `Question ${id}`) {
  return { id, task: 'generate' as const, messages: [{ role: 'user' as const, content }] };
}
