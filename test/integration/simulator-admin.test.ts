import {
  AccessDeniedException,
  BedrockRuntimeClient,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ModelErrorException,
  ModelStreamErrorException,
  ServiceUnavailableException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AdminStats } from '../../src/simulator/admin.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { startSimulatorWithProfile } from '../../src/simulator/index.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const TITAN = 'amazon.titan-text-express-v1';

let sim: RunningSimulator;
let client: BedrockRuntimeClient;

beforeAll(async () => {
  sim = await startSimulatorWithProfile({ profile: 'zero', seed: 7 });
  client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: sim.url,
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterEach(async () => {
  await admin('POST', '/_sim/reset');
});

afterAll(async () => {
  client.destroy();
  await sim.close();
});

/** Calls `/_sim/*`; `T` is the answer's shape, as the admin API documents it. */
async function admin<T = { error?: string }>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

const claude = (text: string) =>
  JSON.stringify({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 50,
    messages: [{ role: 'user', content: text }],
  });

const invoke = (modelId: string, body = claude('Say hello.')) =>
  client.send(new InvokeModelCommand({ modelId, body, contentType: 'application/json' }));

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('simulator admin API', () => {
  it('answers health and lists no faults for the zero profile', async () => {
    const health = await admin('GET', '/_sim/health');
    const faults = await admin('GET', '/_sim/faults');

    expect(health).toMatchObject({ status: 200, json: { ok: true, profile: 'zero', seed: 7 } });
    expect(faults.json).toEqual({ faults: [] });
  });

  it('makes the SDK receive the error a fault added over HTTP injects, until it is deleted', async () => {
    const added = await admin<{ ids: string[] }>('POST', '/_sim/faults', {
      model: HAIKU,
      errorRate: { modelError: 1 },
    });

    const error = await failure(invoke(HAIKU));
    await admin('DELETE', `/_sim/faults/${added.json.ids[0]}`);
    const after = await invoke(HAIKU);

    expect(added.status).toBe(201);
    expect(error).toBeInstanceOf(ModelErrorException);
    expect((error as ModelErrorException).originalStatusCode).toBe(500);
    expect((error as ModelErrorException).$metadata.httpStatusCode).toBe(424);
    expect(after.$metadata.httpStatusCode).toBe(200);
  });

  it('takes down only the cross-region profile a rule names', async () => {
    await admin('POST', '/_sim/faults', [{ model: `us.${HAIKU}`, outage: true }]);

    const viaProfile = await failure(invoke(`us.${HAIKU}`));
    const onDemand = await invoke(HAIKU);

    expect(viaProfile).toBeInstanceOf(ServiceUnavailableException);
    expect((viaProfile as Error).message).toBe('Service Unavailable. Please try again later.');
    expect(onDemand.$metadata.httpStatusCode).toBe(200);
  });

  it('breaks a response stream mid-way with a stream exception', async () => {
    await admin('POST', '/_sim/faults', { model: HAIKU, breakStream: { probability: 1, afterChunks: 1 } });
    const res = await client.send(
      new InvokeModelWithResponseStreamCommand({ modelId: HAIKU, body: claude('Tell me a story.') }),
    );

    const chunks: unknown[] = [];
    const error = await failure(
      (async () => {
        for await (const event of res.body ?? []) chunks.push(event);
      })(),
    );

    expect(chunks).toHaveLength(1);
    expect(error).toBeInstanceOf(ModelStreamErrorException);
  });

  it('filters prompts that match a content-filter rule', async () => {
    await admin('POST', '/_sim/faults', { model: TITAN, contentFilter: { pattern: 'forbidden-topic' } });
    const body = (text: string) =>
      JSON.stringify({ inputText: text, textGenerationConfig: { maxTokenCount: 20 } });

    const filtered = await invoke(TITAN, body('Explain the forbidden-topic.'));
    const fine = await invoke(TITAN, body('Explain queues.'));

    const reason = (r: typeof fine) => JSON.parse(Buffer.from(r.body).toString()).results[0].completionReason;
    expect(reason(filtered)).toBe('CONTENT_FILTERED');
    expect(reason(fine)).not.toBe('CONTENT_FILTERED');
  });

  it('disables a model at run time: the SDK gets AccessDeniedException', async () => {
    const changed = await admin('POST', `/_sim/models/${encodeURIComponent(HAIKU)}`, { enabled: false });

    const error = await failure(invoke(HAIKU));

    expect(changed).toMatchObject({ status: 200, json: { id: HAIKU, state: { enabled: false } } });
    expect(error).toBeInstanceOf(AccessDeniedException);
  });

  it('refuses a bad fault rule with 400 naming the field, and adds none of a bad batch', async () => {
    const bad = await admin('POST', '/_sim/faults', [
      { model: HAIKU, outage: true },
      { model: HAIKU, errorRate: { throttle: 2 } },
    ]);
    const notJson = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: '{' });
    const listed = await admin<{ faults: unknown[] }>('GET', '/_sim/faults');

    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^\[1\]\.errorRate\.throttle: /);
    expect(notJson.status).toBe(400);
    expect(listed.json.faults).toEqual([]);
  });

  it('answers 404 for unknown admin routes and models', async () => {
    expect((await admin('GET', '/_sim/nothing')).status).toBe(404);
    expect((await admin('POST', '/_sim/models/acme.x', { rpm: 1 })).status).toBe(404);
    expect((await admin('DELETE', '/_sim/faults/f999')).status).toBe(404);
    expect((await admin('PUT', '/_sim/faults')).status).toBe(405);
  });

  it('counts calls, faults by kind and tokens in /_sim/stats, and resets them', async () => {
    await admin('POST', '/_sim/faults', { model: TITAN, outage: true });
    await invoke(HAIKU);
    await invoke(HAIKU);
    await failure(invoke(TITAN, JSON.stringify({ inputText: 'hi' })));
    await failure(invoke('acme.unknown-v1'));

    const stats = await admin<AdminStats>('GET', '/_sim/stats?reset=1');
    const after = await admin<AdminStats>('GET', '/_sim/stats');

    expect(stats.json.models[HAIKU]).toMatchObject({ calls: 2, ok: 2, admittedLastMinute: 2 });
    expect(stats.json.models[HAIKU]?.outputTokens).toBeGreaterThan(0);
    expect(stats.json.models[TITAN]).toMatchObject({ calls: 1, faults: 1, faultsByKind: { outage: 1 } });
    expect(stats.json.total).toMatchObject({ calls: 4, ok: 2, faults: 1, clientErrors: 1 });
    expect(after.json.total.calls).toBe(0);
  });
});
