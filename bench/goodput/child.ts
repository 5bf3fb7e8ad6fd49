/**
 * A worker process of the goodput bench. The harness starts a few per system and reuses them
 * for every scenario: each run it is told to start bedrock-jobs' worker or a baseline's plain
 * BullMQ worker, and to stop it afterwards. Systems thus never share an event loop with the
 * simulator, and loading a library is paid once per system, not once per run.
 */
import { ConfigSchema } from '../../src/config.js';
import { startWorker } from '../../src/queue/worker.js';
import { createCaller } from '../baselines/index.js';
import { startPlainWorker } from '../baselines/plain-worker.js';
import { type ChildMessage, ParentMessageSchema, type RunSpec } from './protocol.js';

type Close = (graceMs: number) => Promise<void>;

function send(message: ChildMessage): void {
  process.send?.(message);
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function start(spec: RunSpec): Promise<Close> {
  if (spec.system === 'bedrock-jobs') {
    const worker = await startWorker({ config: ConfigSchema.parse(spec.bedrockJobs) });
    return (graceMs) => worker.close({ deadlineMs: graceMs });
  }
  const caller = await createCaller(spec.system, {
    endpoint: spec.endpoint,
    region: spec.region,
    chain: spec.chain,
    maxTokens: spec.maxTokens,
  });
  const worker = await startPlainWorker({
    redisUrl: spec.redisUrl,
    prefix: spec.prefix,
    queueName: spec.queueName,
    concurrency: spec.concurrency,
    caller,
  });
  return (graceMs) => worker.close(graceMs);
}

let close: Close | undefined;
// Messages are handled one at a time, in order, so a stop never overtakes its start.
let queue: Promise<void> = Promise.resolve();

process.on('message', (raw) => {
  const parsed = ParentMessageSchema.safeParse(raw);
  if (!parsed.success) {
    send({ type: 'failed', message: `bad message: ${parsed.error.message}` });
    return;
  }
  const message = parsed.data;
  queue = queue.then(async () => {
    try {
      if (message.type === 'start') {
        close = await start(message.spec);
        send({ type: 'started' });
      } else {
        await close?.(message.graceMs);
        close = undefined;
        send({ type: 'stopped' });
      }
    } catch (e) {
      send({ type: 'failed', message: describe(e) });
    }
  });
});

// The harness is gone (finished, crashed or interrupted): never serve an orphaned queue.
process.on('disconnect', () => {
  void queue.then(() => close?.(0)).finally(() => process.exit(0));
});

send({ type: 'loaded' });
