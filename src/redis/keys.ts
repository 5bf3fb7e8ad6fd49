import { CALLBACK_QUEUE_NAME, OFFLINE_QUEUE_NAME, QUEUE_NAME } from './names.js';

/**
 * Every Redis key the service writes, in one place (`docs/architecture.md#redis-keys`).
 *
 * BullMQ gets the same prefix, so its keys are `<prefix>:jobs:…` beside ours. With the default
 * prefix `{bj}` the braces make Redis Cluster hash only `bj`, putting every key in one slot:
 * BullMQ's scripts and ours touch several keys at once and need that.
 */
export interface Keys {
  readonly prefix: string;
  /** JSON result record of one job, with a TTL. The lasting idempotency record of that id. */
  result(jobId: string): string;
  /**
   * Hash of one batch: `total`, `completed`, `failed`; `sealed` ('0' while more jobs may come);
   * `doneAt`/`doneEventId` once it is done; its callback settings and delivery state.
   */
  batch(batchId: string): string;
  /** List of the ids of a batch's finished jobs, in finishing order: export reads it in pages. */
  batchResults(batchId: string): string;
  /** Set of the ids ever enqueued in a batch, so a job id adds to `total` once only. */
  batchJobs(batchId: string): string;
  /**
   * Hash of a batch's retried jobs: id → generation (how many times its failed result was
   * superseded by a retry on purpose). A result of an older generation is never saved, and a
   * failed one counts in the batch only while it is of the current generation.
   */
  batchRetries(batchId: string): string;
  /** Sorted set of recent batch ids scored by creation time (ms), capped: the dashboard's list. */
  readonly batchIndex: string;
  /** Short-lived marker taken while a producer adds a job, so two producers never both add it. */
  claim(jobId: string): string;
  /**
   * JSON payload of a failed job a retry on purpose is replacing, from before the failed job is
   * removed until its new job is queued: a retry that dies in between leaves it for the next.
   */
  retrying(jobId: string): string;
  /** JSON of the fleet's last preflight: which chain models the account may use; with a TTL. */
  readonly preflight: string;
  /** Hash of one model's fleet-wide token buckets (`r`, `t`, `ts`); absent means both full. */
  rateLimit(modelId: string): string;
  /** Hash of one model's fleet-wide breaker (`until`); absent means closed. */
  breaker(modelId: string): string;
  /** Held by the one worker of the fleet making a model's half-open probe. */
  breakerProbe(modelId: string): string;
  /** JSON progress of a split document between rounds of its parts, with a TTL. */
  splitStage(jobId: string): string;
  /**
   * Hash of one API client's failed authentications in its current window (`n`, and `s`, when
   * the window started, ms), shared by every API process; expires with the window.
   */
  authFailures(client: string): string;
  /**
   * Hash of the fleet's model-call counts in the 10 s window starting at `startSecond` (Unix
   * seconds), summed over every worker; expires after the stats retention.
   */
  statsWindow(startSecond: number): string;
  /** Hash of the fleet's finished jobs per second in the 10 s window starting at `startSecond`. */
  seriesWindow(startSecond: number): string;
  /**
   * Stream with one entry per finished job (`id`, `batchId`, `status`), and one per batch that is
   * done (`batchId`, `status: done`, its counters), for followers.
   */
  readonly results: string;
  /** Hash of callback deliveries not yet finished: delivery id → JSON delivery. */
  readonly callbackOutbox: string;
  /** How one callback delivery ended (`delivered` or `failed`); its presence makes a retry a no-op. */
  callbackDelivery(deliveryId: string): string;
  /** The BullMQ queue of callback deliveries. */
  readonly callbackQueueName: string;
  /** BullMQ's hash of one callback delivery job. */
  callbackJob(jobId: string): string;
  /**
   * Hash of a batch's offline lane (`docs/offline-lane.md`): `planned`, `parts`, `polls`,
   * `doneAt`, and per part `part:<n>` its JSON state (model, S3 keys, invocation job, status).
   */
  offline(batchId: string): string;
  /** List of the job ids of one part of a batch's offline lane, in record order. */
  offlinePart(batchId: string, part: number): string;
  /** Hash of the chunk summaries read back offline for one document in parts, by chunk index. */
  offlineChunks(batchId: string, jobId: string): string;
  /** The BullMQ queue of offline-lane coordinators. */
  readonly offlineQueueName: string;
  /** BullMQ's sorted set of delayed jobs of the jobs queue (where offline-lane jobs wait). */
  readonly bullDelayed: string;
  /** The BullMQ queue name. */
  readonly queueName: string;
  /** The `prefix` option for BullMQ `Queue`, `Worker` and `QueueEvents`. */
  readonly bullPrefix: string;
  /** BullMQ's hash of one job (exists while BullMQ keeps the job). */
  bullJob(jobId: string): string;
  /** BullMQ's list of the ids of running jobs. */
  readonly bullActive: string;
  /** BullMQ's sorted set of parent jobs waiting for their children (summaries in parts). */
  readonly bullWaitingChildren: string;
  /** BullMQ's sorted set of the ids of failed jobs it still keeps. */
  readonly bullFailed: string;
}

/**
 * The keys under `prefix`. Job and batch ids never contain `:` (the job schema refuses it), so
 * no id can reach into another id's keys.
 */
export function keysFor(prefix: string): Keys {
  return {
    prefix,
    result: (jobId) => `${prefix}:result:${jobId}`,
    batch: (batchId) => `${prefix}:batch:${batchId}`,
    batchResults: (batchId) => `${prefix}:batch:${batchId}:results`,
    batchJobs: (batchId) => `${prefix}:batch:${batchId}:jobs`,
    batchRetries: (batchId) => `${prefix}:batch:${batchId}:retries`,
    batchIndex: `${prefix}:batches`,
    claim: (jobId) => `${prefix}:claim:${jobId}`,
    retrying: (jobId) => `${prefix}:retrying:${jobId}`,
    preflight: `${prefix}:preflight`,
    rateLimit: (modelId) => `${prefix}:rl:${modelId}`,
    breaker: (modelId) => `${prefix}:br:${modelId}`,
    breakerProbe: (modelId) => `${prefix}:br:${modelId}:probe`,
    splitStage: (jobId) => `${prefix}:split:${jobId}`,
    authFailures: (client) => `${prefix}:authfail:${client}`,
    statsWindow: (startSecond) => `${prefix}:stats:${startSecond}`,
    seriesWindow: (startSecond) => `${prefix}:series:${startSecond}`,
    results: `${prefix}:results`,
    // Not under `callbacks:`, which is the BullMQ queue's own key space.
    callbackOutbox: `${prefix}:callback-outbox`,
    callbackDelivery: (deliveryId) => `${prefix}:callback:${deliveryId}`,
    callbackQueueName: CALLBACK_QUEUE_NAME,
    callbackJob: (jobId) => `${prefix}:${CALLBACK_QUEUE_NAME}:${jobId}`,
    // Not under `offline:`, which is the coordinator queue's own key space.
    offline: (batchId) => `${prefix}:lane:${batchId}`,
    offlinePart: (batchId, part) => `${prefix}:lane:${batchId}:part:${part}`,
    offlineChunks: (batchId, jobId) => `${prefix}:lane:${batchId}:chunks:${jobId}`,
    offlineQueueName: OFFLINE_QUEUE_NAME,
    bullDelayed: `${prefix}:${QUEUE_NAME}:delayed`,
    queueName: QUEUE_NAME,
    bullPrefix: prefix,
    bullJob: (jobId) => `${prefix}:${QUEUE_NAME}:${jobId}`,
    bullActive: `${prefix}:${QUEUE_NAME}:active`,
    bullWaitingChildren: `${prefix}:${QUEUE_NAME}:waiting-children`,
    bullFailed: `${prefix}:${QUEUE_NAME}:failed`,
  };
}

/**
 * The part of `prefix` Redis Cluster hashes: what lies between its first `{` and the next `}`,
 * when that is not empty (`{bj}` → `bj`). Every key starts with the prefix and ids never hold
 * braces, so with a tag every key of the service is in one slot; without one, none is.
 * @see https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags
 */
export function hashTagOf(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : undefined;
}

/**
 * Suffixes BullMQ uses for its own per-queue keys (`<prefix>:jobs:<suffix>`). A job id equal to
 * one of them would alias that key, and BullMQ would silently treat the job as a duplicate.
 */
export const BULLMQ_RESERVED_IDS: ReadonlySet<string> = new Set([
  'active',
  'wait',
  'waiting-children',
  'paused',
  'id',
  'delayed',
  'prioritized',
  'stalled-check',
  'completed',
  'failed',
  'stalled',
  'repeat',
  'limiter',
  'meta',
  'events',
  'pc',
  'marker',
  'de',
  'metrics',
]);
