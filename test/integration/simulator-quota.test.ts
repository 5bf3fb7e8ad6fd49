import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminStats } from '../../src/simulator/admin.js';
import { type RunningSimulator, startSimulatorWithProfile } from '../../src/simulator/index.js';
import { ProfileSchema } from '../../src/simulator/profiles.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const RPM = 120;
/** One simulated minute lasts 10 s of real time. */
const TIME_SCALE = 6;
const MINUTE_REAL_MS = 60_000 / TIME_SCALE;

let sim: RunningSimulator;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  const profile = ProfileSchema.parse({
    name: 'quota-test',
    zeroLatency: true,
    models: { [HAIKU]: { rpm: RPM, tpm: 1_000_000_000 } },
  });
  sim = await startSimulatorWithProfile({ profile, timeScale: TIME_SCALE, seed: 1 });
  client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: sim.url,
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client.destroy();
  await sim.close();
});

const body = JSON.stringify({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 20,
  messages: [{ role: 'user', content: 'Say hello.' }],
});

/** 'ok' or 'throttled'; anything else fails the test. */
async function call(): Promise<'ok' | 'throttled'> {
  try {
    await client.send(new InvokeModelCommand({ modelId: HAIKU, body, contentType: 'application/json' }));
    return 'ok';
  } catch (e) {
    if (e instanceof ThrottlingException) return 'throttled';
    throw e;
  }
}

async function stats(query = ''): Promise<AdminStats> {
  return (await (await fetch(`${sim.url}/_sim/stats${query}`)).json()) as AdminStats;
}

describe('simulator quotas through the real SDK', () => {
  it('admits about one quota per simulated minute at twice the RPM, throttling about half', async () => {
    // Empty the burst a fresh bucket holds: call until the first throttle.
    let drained = 0;
    while ((await call()) === 'ok') drained++;
    await stats('?reset=1');

    // Then one simulated minute of calls at 2 × RPM, on a fixed schedule.
    const n = 2 * RPM;
    const start = performance.now();
    const outcomes = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<'ok' | 'throttled'>((resolve, reject) => {
            const due = start + (i * MINUTE_REAL_MS) / n;
            setTimeout(() => call().then(resolve, reject), Math.max(0, due - performance.now()));
          }),
      ),
    );
    const seen = (await stats()).models[HAIKU];

    const admitted = outcomes.filter((o) => o === 'ok').length;
    expect(drained).toBeGreaterThanOrEqual(RPM);
    expect(seen).toMatchObject({ calls: n, ok: admitted, throttled: n - admitted });
    expect(Math.abs(admitted - RPM)).toBeLessThanOrEqual(0.05 * RPM);
    expect(seen?.admittedLastMinute).toBeGreaterThanOrEqual(0.95 * RPM);
    expect(seen?.admittedLastMinute).toBeLessThanOrEqual(1.05 * RPM);
  }, 60_000);

  it('gives a cross-region profile id its own, doubled quota', async () => {
    await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    const viaProfile = (modelId: string) =>
      client
        .send(new InvokeModelCommand({ modelId, body, contentType: 'application/json' }))
        .then(() => 'ok' as const)
        .catch((e: unknown) =>
          e instanceof ThrottlingException ? ('throttled' as const) : Promise.reject(e),
        );

    let admitted = 0;
    while ((await viaProfile(`us.${HAIKU}`)) === 'ok') admitted++;
    const onDemandStillOpen = await call();

    // A few refill during the run; the burst alone is 2 × RPM.
    expect(admitted).toBeGreaterThanOrEqual(2 * RPM);
    expect(admitted).toBeLessThan(2.2 * RPM);
    expect(onDemandStillOpen).toBe('ok');
  }, 30_000);
});
