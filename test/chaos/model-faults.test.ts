/**
 * The first model of the chain hangs (accepts calls and never answers) or drops connections
 * (a TCP reset): each call is cut by the worker's call timeout (`policy.timeoutMs`) or fails at
 * once, the job moves on to the next model, and no job is left running with nobody on it.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createProducer } from '../../src/queue/producer.js';
import { ProfileSchema, startSimulatorWithProfile } from '../../src/simulator/index.js';
import { redisUrl } from '../helpers/redis.js';
import { finishedJobs, repeated, resultRecords, useChaos, writeConfig } from './harness.js';

const chaos = useChaos();
const SICK = 'amazon.nova-micro-v1:0';
const HEALTHY = 'amazon.nova-lite-v1:0';
const CALL_TIMEOUT_MS = 1_000;
const JOBS = 60;

interface Attempt {
  modelId: string;
  outcome: string;
  latencyMs: number;
}

describe('a model that hangs or drops connections', () => {
  it('times its calls out, moves every job to the next model, and leaves no job running unattended', async () => {
    const url = await redisUrl();
    chaos.cleanKeysOn(url);
    const { keys, prefix } = chaos;
    const quota = { rpm: 1e9, tpm: 1e12 };
    const sim = chaos.track(
      await startSimulatorWithProfile({
        profile: ProfileSchema.parse({
          zeroLatency: true,
          jitter: 0,
          models: { [SICK]: quota, [HEALTHY]: quota },
          // The first rule that fires decides a call: half hang for ever, the rest are reset.
          faults: [
            { model: SICK, hang: { probability: 0.5 } },
            { model: SICK, reset: {} },
          ],
        }),
      }),
    );
    const configFile = writeConfig(chaos.dir, {
      prefix,
      // The healthy model's calls get all the time they need on a busy machine.
      models: { [SICK]: quota, [HEALTHY]: { ...quota, policy: { timeoutMs: 30_000 } } },
      policy: { timeoutMs: CALL_TIMEOUT_MS, breaker: { halfOpenAfterMs: 1_000 } },
      // Not one stall is survived: a job whose lock lapsed while its call hung would fail.
      worker: { lockDurationMs: 2_000, stalledIntervalMs: 1_000, maxStalledCount: 0 },
    });
    const admin = new Redis(url);
    chaos.track({ close: () => admin.quit().then(() => undefined) });
    const producer = chaos.track(createProducer({ redis: url, prefix }));
    const ids = Array.from({ length: JOBS }, (_, i) => `sick-${i}`);
    await producer.enqueueBatch(
      ids.map((id) => ({
        id,
        task: 'generate' as const,
        models: [SICK, HEALTHY],
        messages: [{ role: 'user' as const, content: `Question ${id}` }],
      })),
      { batchId: 'sick' },
    );

    const spec = { redisUrl: url, endpoint: sim.url, configFile, concurrency: 8 };
    await Promise.all([chaos.startWorker(spec), chaos.startWorker(spec)]);
    const counters = await producer.waitForBatch('sick', { pollMs: 500 });

    const records = await resultRecords(admin, keys, ids);
    const attempts = records.flatMap((r) => (r?.attempts ?? []) as Attempt[]);
    const onSick = attempts.filter((a) => a.modelId === SICK);
    const faults = sim.admin.stats().models[SICK]?.faultsByKind ?? {};
    const stalled = (await admin.xrange(`${keys.bullPrefix}:${keys.queueName}:events`, '-', '+')).filter(
      ([, fields]) => fields[1] === 'stalled',
    );

    expect(counters).toMatchObject({ total: JOBS, completed: JOBS, failed: 0 });
    expect(repeated((await finishedJobs(admin, keys)).map((f) => f.id))).toEqual({});
    expect(records.map((r) => r?.modelId)).toEqual(ids.map(() => HEALTHY));
    // Both faults happened, and every call they hit ended by itself: a hung call at the timeout.
    expect(faults.hang).toBeGreaterThan(0);
    expect(faults.reset).toBeGreaterThan(0);
    // A hang is cut by the call timeout (timeout); a reset is a lost connection (unavailable).
    const failedCalls = onSick.filter((a) => a.outcome === 'timeout' || a.outcome === 'unavailable');
    expect(onSick.filter((a) => !failedCalls.includes(a) && a.outcome !== 'circuit_open')).toEqual([]);
    // Every faulted call failed (a call slowed by a busy machine may time out too).
    expect(failedCalls.length).toBeGreaterThanOrEqual((faults.hang ?? 0) + (faults.reset ?? 0));
    expect(failedCalls.filter((a) => a.latencyMs >= CALL_TIMEOUT_MS).length).toBeGreaterThanOrEqual(
      faults.hang ?? 0,
    );
    // Nothing stayed running past the stalled check: no job stalled, none is left active.
    expect(stalled).toEqual([]);
    expect(await admin.llen(keys.bullActive)).toBe(0);
  }, 120_000);
});
