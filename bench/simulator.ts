/**
 * Simulator benchmark, run with `node --import tsx --expose-gc bench/simulator.ts` (or
 * `npx tsx bench/simulator.ts`, without the after-GC heap figures).
 *
 * 1. Overhead: zero-latency InvokeModel calls/s through the real SDK against the simulator
 *    (zero profile) and, in the same run, against a static server that returns a canned
 *    Claude body, both with the SDK's default HTTP/2 handler and with HTTP/1.1 keep-alive.
 *    The ratio simulator/static is the share of raw HTTP+SDK throughput the simulator keeps.
 * 2. Memory: scaled mixed load (chaos profile: faults, throttles, streams, Converse) for a
 *    simulated duration; RSS and heap after GC at the start and the end.
 *
 * Options: --calls 5000 --inflight 64 --rounds 2 --duration-ms 600000 (simulated)
 *          --time-scale 20 --seed 1 --skip-overhead --skip-memory
 */
import { once } from 'node:events';
import { Agent, createServer as createHttp1Server } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import { parseArgs } from 'node:util';
import {
  BedrockRuntimeClient,
  type BedrockRuntimeClientConfig,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startSimulatorWithProfile } from '../src/simulator/index.js';

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '5000' },
    inflight: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '2' },
    'duration-ms': { type: 'string', default: String(10 * 60_000) },
    'time-scale': { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    'skip-overhead': { type: 'boolean', default: false },
    'skip-memory': { type: 'boolean', default: false },
  },
});
const CALLS = Number(args.calls);
const INFLIGHT = Number(args.inflight);
const ROUNDS = Number(args.rounds);
const DURATION_MS = Number(args['duration-ms']);
const TIME_SCALE = Number(args['time-scale']);
const SEED = Number(args.seed);

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const CLAUDE_BODY = JSON.stringify({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'Summarize: queues let workers share load and retry failed jobs.' }],
});

type Transport = 'h2' | 'http1';

function client(endpoint: string, transport: Transport): BedrockRuntimeClient {
  const config: BedrockRuntimeClientConfig = {
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  };
  if (transport === 'http1')
    config.requestHandler = new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: INFLIGHT }),
    });
  return new BedrockRuntimeClient(config);
}

/** Runs `total` calls with `inflight` at a time; returns calls/s. */
async function pump(total: number, inflight: number, call: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < total) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  return total / ((performance.now() - t0) / 1000);
}

// The static baseline: what the SDK and node:http(2) cost with no simulator logic at all.
const CANNED = JSON.stringify({
  id: 'msg_bench',
  type: 'message',
  role: 'assistant',
  model: 'claude-3-haiku-20240307',
  content: [{ type: 'text', text: 'Queues share load across workers and retry failed jobs.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 18, output_tokens: 11 },
});
const CANNED_HEADERS = {
  'content-type': 'application/json',
  'content-length': Buffer.byteLength(CANNED),
  'x-amzn-requestid': 'bench',
  'x-amzn-bedrock-input-token-count': '18',
  'x-amzn-bedrock-output-token-count': '11',
};
/** Reads the request, then answers the canned body: HTTP/2 (h2c) and HTTP/1.1 keep-alive. */
function staticServers(): { h2: Server; http1: Server } {
  const h2 = createHttp2Server((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, CANNED_HEADERS).end(CANNED));
  });
  const http1 = createHttp1Server({ keepAlive: true }, (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, CANNED_HEADERS).end(CANNED));
  });
  return { h2, http1 };
}
async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function overhead(): Promise<void> {
  const sim = await startSimulatorWithProfile({ profile: 'zero', seed: SEED });
  const servers = staticServers();
  const staticUrl = { h2: await listen(servers.h2), http1: await listen(servers.http1) };
  const invoke = (c: BedrockRuntimeClient) => () =>
    c.send(new InvokeModelCommand({ modelId: HAIKU, body: CLAUDE_BODY, contentType: 'application/json' }));

  console.log(`overhead: ${CALLS} InvokeModel calls, ${INFLIGHT} in flight, best of ${ROUNDS} rounds`);
  for (const transport of ['h2', 'http1'] as const) {
    const clients = { static: client(staticUrl[transport], transport), sim: client(sim.url, transport) };
    const best = { static: 0, sim: 0 };
    for (const target of ['static', 'sim'] as const) await pump(500, INFLIGHT, invoke(clients[target]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate so drift in machine load hits both targets alike.
      for (const target of ['static', 'sim'] as const) {
        best[target] = Math.max(best[target], await pump(CALLS, INFLIGHT, invoke(clients[target])));
      }
    }
    const ratio = best.sim / best.static;
    console.log(
      `  ${transport.padEnd(5)} static ${best.static.toFixed(0).padStart(6)} calls/s   simulator ${best.sim
        .toFixed(0)
        .padStart(
          6,
        )} calls/s   ratio ${ratio.toFixed(2)} ${ratio >= 0.6 ? '(≥ 0.6 ok)' : '(below 0.6 target)'}`,
    );
    clients.static.destroy();
    clients.sim.destroy();
  }
  await sim.close();
  servers.h2.close();
  servers.http1.close();
}

function memory(): { rssMb: number; heapMb: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 };
}

const MODELS = [
  HAIKU,
  `us.${HAIKU}`,
  'amazon.titan-text-express-v1',
  'us.meta.llama3-1-70b-instruct-v1:0',
  'amazon.nova-lite-v1:0',
  'mistral.mistral-7b-instruct-v0:2',
  'cohere.command-r-v1:0',
];

/** One call of a rotating mix: native invoke and stream (Claude), Converse and ConverseStream (all). */
async function mixedCall(c: BedrockRuntimeClient, i: number): Promise<void> {
  const modelId = MODELS[i % MODELS.length]!;
  const messages = [
    { role: 'user' as const, content: [{ text: `Summarize item ${i}: workers retry jobs.` }] },
  ];
  const kind = Math.floor(i / MODELS.length) % 4;
  try {
    if (kind === 0 && modelId.includes('anthropic'))
      await c.send(new InvokeModelCommand({ modelId, body: CLAUDE_BODY, contentType: 'application/json' }));
    else if (kind === 1 && modelId.includes('anthropic')) {
      const res = await c.send(new InvokeModelWithResponseStreamCommand({ modelId, body: CLAUDE_BODY }));
      for await (const _ of res.body ?? []);
    } else if (kind === 2) {
      const res = await c.send(
        new ConverseStreamCommand({ modelId, messages, inferenceConfig: { maxTokens: 64 } }),
      );
      for await (const _ of res.stream ?? []);
    } else await c.send(new ConverseCommand({ modelId, messages, inferenceConfig: { maxTokens: 64 } }));
  } catch {
    // Faults and throttles are the point of this phase; only memory is measured.
  }
}

async function memoryPhase(): Promise<void> {
  const realMs = DURATION_MS / TIME_SCALE;
  console.log(
    `memory: chaos profile, ${DURATION_MS / 60_000} simulated min at time scale ${TIME_SCALE} (${(realMs / 1000).toFixed(0)} s real), ${INFLIGHT} in flight${
      (globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc: heap figures include garbage)'
    }`,
  );
  const sim = await startSimulatorWithProfile({ profile: 'chaos', seed: SEED, timeScale: TIME_SCALE });
  const c = client(sim.url, 'h2');
  let i = 0;
  await pump(2_000, INFLIGHT, () => mixedCall(c, i++));
  const start = memory();
  const deadline = performance.now() + realMs;
  let calls = 0;
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (performance.now() < deadline) {
        await mixedCall(c, i++);
        calls++;
      }
    }),
  );
  const end = memory();
  const stats = sim.admin.stats().total;
  console.log(
    `  ${calls} calls (${(calls / (realMs / 1000)).toFixed(0)}/s): ok ${stats.ok}, throttled ${stats.throttled}, faults ${stats.faults}`,
  );
  console.log(`  start  rss ${start.rssMb.toFixed(1)} MB  heap ${start.heapMb.toFixed(1)} MB`);
  console.log(`  end    rss ${end.rssMb.toFixed(1)} MB  heap ${end.heapMb.toFixed(1)} MB`);
  c.destroy();
  await sim.close();
}

if (!args['skip-overhead']) await overhead();
if (!args['skip-memory']) await memoryPhase();
