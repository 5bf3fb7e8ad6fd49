import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drain, ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
let sim: ProfileSimulator;

beforeAll(async () => {
  sim = await startSimulatorWithProfile({ profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0 }) });
});
afterAll(async () => {
  await sim.close();
});

describe('graceful shutdown', () => {
  it('hands jobs still running at the deadline back to the queue, and a new worker finishes them', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        redisUrl: ctx.url,
        prefix: ctx.prefix,
        endpoint: sim.url,
        worker: { concurrency: 4, shutdownTimeoutMs: 200, jobAttempts: 3, busyBackoffMs: 50 },
      },
    });
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream,
    });
    const producer = createProducer({ redis: ctx.url, prefix: ctx.prefix, config });
    const queue = new Queue('jobs', { connection: { url: ctx.url }, prefix: ctx.prefix });
    sim.admin.addFault({ model: '*', hang: { probability: 1 } });
    await producer.enqueueBatch(
      Array.from({ length: 4 }, (_, i) => ({
        id: `s${i}`,
        task: 'generate' as const,
        messages: [{ role: 'user' as const, content: 'secret-marker-4711' }],
      })),
      { batchId: 'shutdown' },
    );
    // The first worker's deadline runs on a clock that moves only when the test says.
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const first = await startWorker({ config, logger, clock });
    // Each call in flight arms its timeout on the worker's clock: four sleeps, four hung calls.
    await clock.sleeping(4);

    let closed = false;
    const closing = Promise.all([first.close(), first.close()]).then(() => {
      closed = true;
    });
    clock.advance(config.worker.shutdownTimeoutMs - 1);
    await drain();
    const closedBeforeDeadline = closed;
    clock.advance(1);
    await closing;
    const counts = await queue.getJobCounts('waiting', 'active', 'failed', 'completed');
    const results = await Promise.all([0, 1, 2, 3].map((i) => producer.getResult(`s${i}`)));
    sim.admin.clearFaults();
    const second = await startWorker({ config });
    const done = await producer.waitForBatch('shutdown', { pollMs: 200 });
    await second.close();
    await queue.close();
    await producer.close();

    expect(closedBeforeDeadline).toBe(false);
    expect(counts).toMatchObject({ waiting: 4, active: 0, failed: 0 });
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(done).toMatchObject({ total: 4, completed: 4, failed: 0 });
    expect(lines.some((l) => l.includes('aborting them'))).toBe(true);
    expect(lines.join('\n')).not.toContain('secret-marker-4711');
  });
});
