import { EventEmitter, once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BedrockModelClient, createBedrockRuntime } from '../../src/bedrock/client.js';
import { CallAborted } from '../../src/bedrock/types.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { isModelError, type ModelError } from '../../src/models/errors.js';
import { type ModelRequest, NATIVE_FAMILIES } from '../../src/models/request.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';

const catalog = new ModelCatalog();
const FIRST_OF_FAMILY = Object.fromEntries(
  NATIVE_FAMILIES.map((f) => [f, catalog.list().find((m) => m.family === f && !m.profileOnly)!.id]),
);

let sim: ProfileSimulator;
let h2: BedrockModelClient;
let h1: BedrockModelClient;
const sdks: { destroy(): void }[] = [];

beforeAll(async () => {
  sim = await startSimulatorWithProfile({ profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0 }) });
  const a = createBedrockRuntime({ region: 'us-east-1', endpoint: sim.url, env: {}, httpVersion: 'h2' });
  const b = createBedrockRuntime({ region: 'us-east-1', endpoint: sim.url, env: {}, httpVersion: 'http1' });
  sdks.push(a, b);
  h2 = new BedrockModelClient(a);
  h1 = new BedrockModelClient(b);
});
afterAll(async () => {
  for (const s of sdks) s.destroy();
  await sim.close();
});
beforeEach(() => {
  sim.admin.reset();
});

const request: ModelRequest = {
  system: 'You are terse.',
  messages: [
    { role: 'user', content: 'What is a queue?' },
    { role: 'assistant', content: 'A line of work.' },
    {
      role: 'user',
      content:
        '다음 문서를 요약해 주세요.\n<document>\n서울은 대한민국의 수도이다. 인구는 약 천만 명이다.\n</document>',
    },
  ],
  params: { maxTokens: 200, temperature: 0.2 },
};

async function failure(p: Promise<unknown>): Promise<ModelError> {
  try {
    await p;
  } catch (e) {
    if (isModelError(e)) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

describe('BedrockModelClient against the simulator', () => {
  it.each(NATIVE_FAMILIES)(
    'invokes %s natively and through Converse, with usage and the Korean summary',
    async (family) => {
      const model = catalog.resolve(FIRST_OF_FAMILY[family]!)!;

      for (const api of ['invoke', 'converse'] as const) {
        const reply = await h2.invoke(model, request, { api });

        expect(reply.text).toContain('서울은 대한민국의 수도이다.');
        expect(reply.stopReason).toBe('end_turn');
        expect(reply.usage.inputTokens).toBeGreaterThan(10);
        expect(reply.usage.outputTokens).toBeGreaterThan(0);
        expect(reply.modelId).toBe(model.requestId);
        expect(reply.requestId).toMatch(/^[0-9a-f-]{36}$/);
      }
    },
  );

  it('reads Mistral usage from the response headers, since its body has none', async () => {
    const reply = await h1.invoke(catalog.resolve('mistral-7b')!, request, { api: 'invoke' });

    expect(reply.usage.inputTokens).toBeGreaterThan(10);
    expect(reply.usage.outputTokens).toBeGreaterThan(0);
  });

  it('calls a profile-only model through its us. inference profile when given by alias', async () => {
    const model = catalog.resolve('claude-3-7-sonnet')!;

    const reply = await h1.invoke(model, request, { api: 'invoke' });

    expect(model.requestId).toBe('us.anthropic.claude-3-7-sonnet-20250219-v1:0');
    expect(reply.text.length).toBeGreaterThan(0);
  });

  it('classifies what the simulator answers into error kinds', async () => {
    const claude = catalog.resolve('claude-3-haiku')!;
    const titan = catalog.resolve('titan-express')!;

    sim.admin.addFault({ model: claude.baseId, errorRate: { throttle: 1 } });
    const throttled = await failure(h2.invoke(claude, request, { api: 'invoke' }));
    sim.admin.clearFaults();
    sim.admin.addFault({ model: claude.baseId, outage: true });
    const down = await failure(h2.invoke(claude, request, { api: 'converse' }));
    sim.admin.clearFaults();
    sim.admin.setModel(titan.baseId, { contextWindow: 50 });
    const tooLong = await failure(h2.invoke(titan, request, { api: 'invoke' }));
    sim.admin.setModel(titan.baseId, { enabled: false });
    const denied = await failure(h2.invoke(titan, request, { api: 'invoke' }));
    const invalid = await failure(
      h2.invoke(claude, { ...request, native: { anthropic: { top_k: 9999 } } }, { api: 'invoke' }),
    );
    const unknown = await failure(
      h2.invoke(catalog.resolve('anthropic.claude-99-v1:0')!, request, { api: 'invoke' }),
    );

    expect([throttled.kind, throttled.httpStatus, throttled.originalName]).toEqual([
      'throttled',
      429,
      'ThrottlingException',
    ]);
    expect([down.kind, down.httpStatus]).toEqual(['unavailable', 503]);
    expect(tooLong.kind).toBe('context_overflow');
    expect([denied.kind, denied.httpStatus]).toEqual(['access_denied', 403]);
    expect([invalid.kind, invalid.httpStatus]).toEqual(['invalid_request', 400]);
    // Bedrock answers an id it does not know with 400 "The provided model identifier is invalid.".
    expect([unknown.kind, unknown.httpStatus, unknown.originalName]).toEqual([
      'access_denied',
      400,
      'ValidationException',
    ]);
  });

  it('turns a filtered answer into content_filtered so the chain moves on', async () => {
    sim.admin.addFault({ model: '*', contentFilter: { pattern: '서울' } });

    const e = await failure(h2.invoke(catalog.resolve('titan-express')!, request, { api: 'invoke' }));

    expect(e.kind).toBe('content_filtered');
  });

  it('aborts a hanging call through its signal and reports a timeout', async () => {
    sim.admin.addFault({ model: '*', hang: { probability: 1 } });
    const controller = new AbortController();

    const call = failure(
      h2.invoke(catalog.resolve('nova-lite')!, request, { api: 'invoke', signal: controller.signal }),
    );
    controller.abort(new CallAborted('timeout'));
    const e = await call;

    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/timed out/);
  });

  it('fails a call whose connection is dropped with a retryable kind, and the next call connects again', async () => {
    const nova = catalog.resolve('nova-lite')!;
    const fault = sim.admin.addFault({ model: '*', reset: {} });

    const pooledSdk = createBedrockRuntime({
      region: 'us-east-1',
      endpoint: sim.url,
      env: {},
      httpVersion: 'h2',
      maxStreamsPerSession: 8,
    });
    sdks.push(pooledSdk);
    const pooled = new BedrockModelClient(pooledSdk);

    const overH2 = await failure(h2.invoke(nova, request, { api: 'invoke' }));
    const overPooledH2 = await failure(pooled.invoke(nova, request, { api: 'converse' }));
    const overH1 = await failure(h1.invoke(nova, request, { api: 'converse' }));
    sim.admin.removeFault(fault);
    const again = await Promise.all([
      h2.invoke(nova, request, { api: 'invoke' }),
      pooled.invoke(nova, request, { api: 'converse' }),
      h1.invoke(nova, request, { api: 'converse' }),
    ]);

    // HTTP/1.1 keeps the socket's ECONNRESET; the SDK's HTTP/2 handler names a session that
    // went away TimeoutError, with no code: a lost connection all the same.
    expect([overH1.kind, overH1.message]).toEqual(['unavailable', 'read ECONNRESET']);
    for (const e of [overH2, overPooledH2]) {
      expect([e.kind, e.originalName, e.message]).toEqual([
        'unavailable',
        'TimeoutError',
        'Unexpected error: http2 request did not get a response',
      ]);
    }
    expect(again.map((r) => r.text.length > 0)).toEqual([true, true, true]);
    expect(sim.admin.stats().total.faultsByKind).toEqual({ reset: 3 });
  });
});

/**
 * A TCP relay to the simulator that counts the connections clients open through it; `sent`
 * emits `data` whenever a client's bytes go through.
 */
async function countingRelay(): Promise<{
  url: string;
  connections: () => number;
  sent: EventEmitter;
  close: () => Promise<void>;
}> {
  const target = new URL(sim.url);
  const sockets = new Set<Socket>();
  const sent = new EventEmitter();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', () => sent.emit('data'));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    sent,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('the default Bedrock Runtime client', () => {
  it('reuses one connection for consecutive calls instead of opening one per call', async () => {
    const relay = await countingRelay();
    const sdk = createBedrockRuntime({ region: 'us-east-1', endpoint: relay.url, env: {} });
    try {
      const client = new BedrockModelClient(sdk);
      for (let i = 0; i < 4; i++) {
        await client.invoke(catalog.resolve('nova-lite')!, request, { api: i % 2 ? 'converse' : 'invoke' });
      }

      expect(relay.connections()).toBe(1);
    } finally {
      sdk.destroy();
      await relay.close();
    }
  });

  it('answers the call after one aborted on a hanging model, on a fresh connection', async () => {
    const relay = await countingRelay();
    const sdk = createBedrockRuntime({ region: 'us-east-1', endpoint: relay.url, env: {} });
    try {
      const client = new BedrockModelClient(sdk);
      const model = catalog.resolve('nova-lite')!;
      await client.invoke(model, request, { api: 'invoke' });
      sim.admin.addFault({ model: '*', hang: { probability: 1 } });
      const controller = new AbortController();
      const reached = once(relay.sent, 'data');
      const hanging = failure(client.invoke(model, request, { api: 'invoke', signal: controller.signal }));
      // Aborted once the request is on the wire, so the call holds a socket when it is cut off.
      await reached;
      controller.abort(new CallAborted('timeout'));
      expect((await hanging).kind).toBe('timeout');
      sim.admin.clearFaults();

      const reply = await client.invoke(model, request, { api: 'invoke' });

      expect(reply.text).toContain('서울은 대한민국의 수도이다.');
      // The aborted call's socket is never handed to another call.
      expect(relay.connections()).toBe(2);
    } finally {
      sdk.destroy();
      await relay.close();
    }
  });
});
