/**
 * One process of the load bench's baseline: the plain BullMQ worker of the goodput bench
 * (`../baselines/plain-worker.ts`) with BullMQ's defaults, calling InvokeModel through the AWS
 * SDK and writing each answer into a Redis hash. The harness passes its spec as JSON in the
 * first argument and stops it with SIGTERM; it also ends when the harness goes away (IPC
 * channel closed), so a crashed run leaves no worker behind.
 */
import { anthropicInvokeCaller } from '../baselines/invoke.js';
import { RESULT_TTL_SECONDS, type StoreAnswer, startPlainWorker } from '../baselines/plain-worker.js';
import { BaselineSpecSchema, baselineResultKey, FINISHED_AT_FIELD } from './baseline-spec.js';

/** Jobs still running at a stop get this long to finish. */
const STOP_GRACE_MS = 5_000;

const spec = BaselineSpecSchema.parse(JSON.parse(process.argv[2] ?? '{}'));

const storeInHash: StoreAnswer = (redis, prefix, job, answer) => {
  const key = baselineResultKey(prefix, job.id);
  return redis
    .multi()
    .hset(key, {
      text: answer.text,
      modelId: answer.modelId ?? '',
      inputTokens: answer.inputTokens,
      outputTokens: answer.outputTokens,
      [FINISHED_AT_FIELD]: Date.now(),
    })
    .expire(key, RESULT_TTL_SECONDS)
    .exec();
};

const worker = await startPlainWorker({
  redisUrl: spec.redisUrl,
  prefix: spec.prefix,
  queueName: spec.queueName,
  concurrency: spec.concurrency,
  caller: anthropicInvokeCaller({
    endpoint: spec.endpoint,
    region: spec.region,
    chain: [spec.modelId],
    maxTokens: spec.maxTokens,
  }),
  store: storeInHash,
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void worker.close(STOP_GRACE_MS).finally(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
