import { afterEach, describe, expect, it } from 'vitest';
import { offlineView } from '../../src/offline/view.js';
import { keysFor } from '../../src/redis/keys.js';
import { listInvocationJobs, startOfflineLaneOnClock } from '../helpers/offline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

const open: { close(): Promise<unknown> | unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

const invoices = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    task: 'summarize' as const,
    document: `Invoice ${prefix}-${i}: ${100 + i} EUR due on 1 March 2027.`,
    models: [HAIKU],
  }));

const start = (bucket: string) => startOfflineLaneOnClock(ctx, bucket, open);

describe('jobs added to an offline batch after its lane was planned', () => {
  it('go offline in a second round of invocation jobs, not online', async () => {
    const lane = await start('bj-rounds');
    const keys = keysFor(ctx.prefix);
    const first = invoices('first', 120);
    const second = invoices('second', 110);

    await lane.producer.enqueueBatch(first, { batchId: 'grows', lane: 'offline' });
    // The first round's invocation job exists and waits on the simulator's clock.
    await expect
      .poll(async () => (await listInvocationJobs(lane.sim.url)).length, { timeout: 30_000 })
      .toBe(1);
    await lane.producer.enqueueBatch(second, { batchId: 'grows', lane: 'offline' });
    const counters = await lane.clock.drive(lane.producer.waitForBatch('grows', { pollMs: 100 }));
    await expect
      .poll(async () => (await offlineView(ctx.redis, keys, 'grows'))?.done, { timeout: 30_000 })
      .toBe(true);
    const view = await offlineView(ctx.redis, keys, 'grows');
    const results = await lane.store.getMany([...first, ...second].map((j) => j.id));

    expect(counters).toEqual({ batchId: 'grows', total: 230, completed: 230, failed: 0 });
    expect(view?.invocationJobs.map((j) => [j.part, j.records, j.offline, j.online])).toEqual([
      [0, 120, 120, 0],
      [1, 110, 110, 0],
    ]);
    expect(results.every((r) => r?.lane === 'offline')).toBe(true);
    expect(lane.sim.admin.stats().batch.models[HAIKU]).toMatchObject({
      jobsCreated: 2,
      recordsSucceeded: 230,
    });
    expect(lane.sim.admin.stats().total.ok).toBe(0);
  }, 90_000);

  it('are planned when they come after the lane is done, while the batch is not', async () => {
    const lane = await start('bj-reseal');
    const keys = keysFor(ctx.prefix);
    const first = invoices('first', 100);
    // One record comes back with an error and runs online, where Haiku is down for now: the
    // lane is done, the batch is not, and it takes more jobs.
    lane.sim.admin.addFault({
      model: HAIKU,
      batch: { recordIdPattern: '^R0000000000$', jobNamePattern: '-p0$' },
    });
    const outage = lane.sim.admin.addFault({ model: HAIKU, outage: true });
    await lane.producer.enqueueBatch(first, { batchId: 'reopened', lane: 'offline' });
    await lane.clock.drive(
      expect
        .poll(async () => (await offlineView(ctx.redis, keys, 'reopened'))?.done, { timeout: 30_000 })
        .toBe(true),
    );
    const second = invoices('second', 100);
    await lane.producer.enqueueBatch(second, { batchId: 'reopened', lane: 'offline' });
    await lane.clock.drive(
      expect
        .poll(async () => (await lane.sim.admin.stats()).batch.models[HAIKU]?.jobsEnded?.Completed, {
          timeout: 30_000,
        })
        .toBe(2),
    );
    lane.sim.admin.removeFault(outage);
    const counters = await lane.clock.drive(lane.producer.waitForBatch('reopened', { pollMs: 100 }));
    const results = await lane.store.getMany(second.map((j) => j.id));

    expect(counters).toMatchObject({ total: 200, completed: 200, failed: 0 });
    expect(results.every((r) => r?.lane === 'offline')).toBe(true);
    expect(lane.sim.admin.stats().batch.models[HAIKU]).toMatchObject({
      jobsCreated: 2,
      recordsSucceeded: 199,
    });
  }, 90_000);
});
