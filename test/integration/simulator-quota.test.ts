import {
  BedrockRuntimeClient,
  InvokeModelCommand,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { AdminStats } from '../../src/simulator/admin.js';
import { type RunningSimulator, startSimulatorWithProfile } from '../../src/simulator/index.js';
import { ProfileSchema } from '../../src/simulator/profiles.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const RPM = 120;
const MINUTE_MS = 60_000;

/**
 * The simulator's time stands still unless a test moves it, so a bucket refills exactly as
 * far as the test steps it, however long the calls take on a busy machine.
 */
const clock = new ManualClock(0);
let sim: RunningSimulator;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  const profile = ProfileSchema.parse({
    name: 'quota-test',
    zeroLatency: true,
    models: { [HAIKU]: { rpm: RPM, tpm: 1_000_000_000 } },
  });
  sim = await startSimulatorWithProfile({ profile, clock, seed: 1 });
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

// A few hundred calls one after another: generous bounds, so a slow machine is never a failure.
describe('simulator quotas through the real SDK', { timeout: 2 * MINUTE_MS }, () => {
  it('admits one quota per simulated minute at twice the RPM, throttling the other half', async () => {
    // Empty the burst a fresh bucket holds: call until the first throttle.
    let drained = 0;
    while ((await call()) === 'ok') drained++;
    await stats('?reset=1');

    // Then one simulated minute of calls at 2 × RPM: each slot's call at its end, so the
    // bucket has refilled half a request for each.
    const n = 2 * RPM;
    const outcomes: ('ok' | 'throttled')[] = [];
    for (let i = 0; i < n; i++) {
      clock.advance(MINUTE_MS / n);
      outcomes.push(await call());
    }
    const seen = (await stats()).models[HAIKU];

    const admitted = outcomes.filter((o) => o === 'ok').length;
    expect(drained).toBe(RPM);
    expect(admitted).toBe(RPM);
    expect(outcomes.slice(0, 4)).toEqual(['throttled', 'ok', 'throttled', 'ok']);
    expect(seen).toMatchObject({ calls: n, ok: RPM, throttled: RPM, admittedLastMinute: RPM });
  });

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

    // Nothing refills while the clock stands still: the burst alone, 2 × RPM, and not one more.
    expect(admitted).toBe(2 * RPM);
    expect(onDemandStillOpen).toBe('ok');
  });
});
