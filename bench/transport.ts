/**
 * The SDK client's transport, both ways in one run: `createBedrockRuntime` with HTTP/1.1
 * keep-alive sockets (the default) and with the SDK's own HTTP/2 handler, which opens a
 * session per call for Bedrock Runtime. Same calls, same simulator process (profile `zero`):
 * calls/s, median latency and CPU per call of this process and of the simulator. Linux (/proc).
 *
 *   npx tsx bench/transport.ts [--calls 1000] [--concurrency 8] [--rounds 2]
 */
import { parseArgs } from 'node:util';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { z } from 'zod';
import { createBedrockRuntime } from '../src/bedrock/client.js';
import { cpuMsOf } from './load/fleet.js';
import { BENCH_REGION } from './load/plan.js';
import { percentile } from './load/report.js';
import { startSimulatorProcess } from './load/simulator-process.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
  },
});
const count = z.coerce.number().int().positive();
const CALLS = count.parse(values.calls);
const CONCURRENCY = count.parse(values.concurrency);
const ROUNDS = count.parse(values.rounds);
const MODEL = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const body = JSON.stringify({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'In one sentence, what does a job queue do?' }],
});

const sim = await startSimulatorProcess('zero');

async function measure(httpVersion: 'http1' | 'h2', calls = CALLS): Promise<string> {
  const client = createBedrockRuntime({ region: BENCH_REGION, endpoint: sim.url, httpVersion, env: {} });
  const latenciesMs: number[] = [];
  const ownBefore = process.cpuUsage();
  const simBefore = cpuMsOf(sim.pid);
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < calls) {
        const t = performance.now();
        await client.send(new InvokeModelCommand({ modelId: MODEL, body, contentType: 'application/json' }));
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const own = process.cpuUsage(ownBefore);
  const simMs = cpuMsOf(sim.pid) - simBefore;
  client.destroy();
  return (
    `${httpVersion.padEnd(5)}  ${(calls / seconds).toFixed(0).padStart(6)} calls/s  ` +
    `p50 ${percentile(latenciesMs, 0.5).toFixed(1).padStart(6)} ms  ` +
    `client CPU ${((own.user + own.system) / 1000 / calls).toFixed(2)} ms/call  ` +
    `simulator CPU ${(simMs / calls).toFixed(2)} ms/call`
  );
}

try {
  // Unmeasured: the first calls of a process pay for compiling the SDK's code paths.
  for (const version of ['http1', 'h2'] as const) await measure(version, Math.ceil(CALLS / 5));
  console.log(`${CALLS} InvokeModel calls, ${CONCURRENCY} at once, ${ROUNDS} rounds of each transport`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const version of ['http1', 'h2'] as const) console.log(await measure(version));
  }
} finally {
  await sim.stop();
}
