import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createProducer } from '../../src/queue/producer.js';
import { startWorker } from '../../src/queue/worker.js';
import { ask } from '../helpers/batches.js';
import { usePipeline } from '../helpers/pipeline.js';
import { useRedis } from '../helpers/redis.js';

const ctx = useRedis();
const pipe = usePipeline({ models: { '*': { rpm: 1e9, tpm: 1e12 } } });
const SECRET = 'the-docs-receiver-secret-0123456';
const DOC = join(import.meta.dirname, '..', '..', 'docs', 'callbacks.md');

/** The receiver of docs/callbacks.md, as printed there. */
function documentedReceiver(): string {
  const blocks = [...readFileSync(DOC, 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const receiver = blocks.find((b) => b.startsWith('// receiver.mjs'));
  if (!receiver) throw new Error('docs/callbacks.md has no ```js block starting with // receiver.mjs');
  return receiver;
}

/** Runs the documented receiver with node; yields its output lines. */
async function runReceiver() {
  const dir = mkdtempSync(join(tmpdir(), 'bj-receiver-'));
  const file = join(dir, 'receiver.mjs');
  writeFileSync(file, documentedReceiver());
  const child: ChildProcess = spawn(process.execPath, [file], {
    env: { ...process.env, CALLBACK_SECRET: SECRET, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  pipe.track({
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill();
        await once(child, 'exit');
      }
    },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextLine = async () => String((await lines.next()).value);
  const port = Number(/^listening on (\d+)$/.exec(await nextLine())?.[1]);
  return { url: `http://127.0.0.1:${port}/hook`, nextLine };
}

describe('the receiver in docs/callbacks.md', () => {
  it('runs, accepts a real callback and refuses a forged one', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        redisUrl: ctx.url,
        prefix: ctx.prefix,
        endpoint: pipe.sim.url,
        callbacks: { secret: SECRET },
      },
    });
    const receiver = await runReceiver();
    const producer = pipe.track(createProducer({ redis: ctx.url, prefix: ctx.prefix, config }));
    const worker = await startWorker({ config, fleetRateLimits: false });
    pipe.track({ close: () => worker.close({ deadlineMs: 5_000 }) });

    const forged = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'x-bedrock-jobs-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'ab'.repeat(32)}` },
      body: '{"type":"batch.done","batchId":"forged"}',
    });
    await producer.enqueueBatch([ask('doc-1')], { batchId: 'from-the-docs', callbackUrl: receiver.url });
    const printed = await receiver.nextLine();

    expect(forged.status).toBe(401);
    expect(printed).toBe('batch.done from-the-docs');
  });
});
