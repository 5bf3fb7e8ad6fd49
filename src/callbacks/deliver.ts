import { type Job, UnrecoverableError } from 'bullmq';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { RedisClient } from '../redis/connect.js';
import type { Keys } from '../redis/keys.js';
import { defineScript, type ScriptRunner } from '../redis/script.js';
import { type Delivery, DeliverySchema, deliveryBody, deliveryHeaders } from './delivery.js';
import { callbackRefusal } from './options.js';
import { signBody } from './signature.js';

/**
 * Records an attempt or the end of a delivery. Ending it is once only: the marker key is set,
 * the outbox entry removed and the batch updated together, and a marker already there (another
 * run of the same delivery finished first) leaves everything as it is. A `batch.done` delivery
 * updates the batch's callback state only while it is the batch's current one: after a retry
 * on purpose reopened the batch, the earlier end's delivery no longer speaks for it.
 * KEYS: marker, outbox, batch. ARGV: delivery id, 'attempt' | 'delivered' | 'failed', event,
 * attempts so far, last error ('' for none), marker ttl s.
 */
const RECORD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local final = ARGV[2] ~= 'attempt'
if final then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[6])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  local current = redis.call('HGET', KEYS[3], 'callbackDeliveryId')
  if ARGV[3] == 'batch.done' and current and current ~= ARGV[1] then
    return 1
  elseif ARGV[3] == 'batch.done' then
    redis.call('HSET', KEYS[3], 'callbackStatus', final and ARGV[2] or 'pending', 'callbackAttempts', ARGV[4])
    if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], 'callbackLastError', ARGV[5]) end
  elseif final then
    redis.call('HINCRBY', KEYS[3], ARGV[2] == 'delivered' and 'callbackJobsDelivered' or 'callbackJobsFailed', 1)
  end
end
return 1
`;

export interface DeliveryDeps {
  redis: RedisClient;
  keys: Keys;
  config: Pick<Config, 'callbacks' | 'resultTtlSeconds'>;
  logger: Logger;
  /** Unix time in ms for the signature's timestamp; default `Date.now`. */
  now?: () => number;
}

/** What a delivery job returns to BullMQ. */
export type DeliveryOutcome = { status: 'delivered'; httpStatus: number } | { status: 'already-finished' };

type Answer = { ok: true; httpStatus: number } | { ok: false; error: string };

/** One POST: 2xx is delivered; anything else, a timeout or a network error is a failed attempt. */
async function post(d: Delivery, secret: string, timeoutMs: number, nowMs: number): Promise<Answer> {
  const body = deliveryBody(d);
  const signature = signBody(secret, Math.floor(nowMs / 1000), body);
  try {
    const res = await fetch(d.url, {
      method: 'POST',
      headers: deliveryHeaders(d, signature),
      body,
      // A redirect could lead the signed request anywhere, internal addresses included.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true, httpStatus: res.status };
    const redirect = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : '';
    return { ok: false, error: `HTTP ${res.status}${redirect}` };
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') {
      return { ok: false, error: `no answer within ${timeoutMs} ms` };
    }
    const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
    const code =
      typeof cause?.code === 'string' ? cause.code : err instanceof Error ? err.message : String(err);
    return { ok: false, error: `request failed: ${code}` };
  }
}

/**
 * The BullMQ processor of the delivery queue: POSTs one signed callback. A failed attempt is
 * recorded on the batch and thrown, so BullMQ retries it with exponential backoff; the last
 * failed attempt is recorded as `failed` and logged before it is thrown. A delivery that has
 * already ended (a crash between its end and BullMQ's acknowledgement) is not sent again.
 */
export function createDeliveryProcessor(deps: DeliveryDeps): (job: Job<unknown>) => Promise<DeliveryOutcome> {
  const { redis, keys, config } = deps;
  const now = deps.now ?? Date.now;
  const record: ScriptRunner = defineScript(redis, 'bjRecordCallback', RECORD_LUA);
  const log = deps.logger.child({ component: 'callbacks' });

  const note = (d: Delivery, outcome: 'attempt' | 'delivered' | 'failed', attempts: number, error = '') =>
    record(
      [keys.callbackDelivery(d.deliveryId), keys.callbackOutbox, keys.batch(d.batchId)],
      [d.deliveryId, outcome, d.event, attempts, error, config.resultTtlSeconds],
    );

  return async (job) => {
    const parsed = DeliverySchema.safeParse(job.data);
    if (!parsed.success) {
      log.error({ jobId: job.id, issues: parsed.error.issues }, 'invalid callback delivery; dropped');
      throw new UnrecoverableError('invalid callback delivery');
    }
    const d = parsed.data;
    // The URL's origin only: its path or query may hold the receiver's own tokens.
    const where = { batchId: d.batchId, event: d.event, host: new URL(d.url).host };
    if ((await redis.exists(keys.callbackDelivery(d.deliveryId))) === 1)
      return { status: 'already-finished' };
    const attempt = job.attemptsMade + 1;
    const refusal = callbackRefusal(d.url, config.callbacks);
    const { secret } = config.callbacks;
    if (refusal !== undefined || secret === undefined) {
      const error = `callbackUrl: ${refusal ?? 'no secret'}`;
      await note(d, 'failed', attempt, error);
      log.error({ ...where, attempts: attempt, error }, 'callback not sent');
      throw new UnrecoverableError(error);
    }
    const answer = await post(d, secret, config.callbacks.timeoutMs, now());
    if (answer.ok) {
      await note(d, 'delivered', attempt);
      log.info({ ...where, attempts: attempt, httpStatus: answer.httpStatus }, 'callback delivered');
      return { status: 'delivered', httpStatus: answer.httpStatus };
    }
    const last = attempt >= (job.opts.attempts ?? 1);
    await note(d, last ? 'failed' : 'attempt', attempt, answer.error);
    if (last) log.error({ ...where, attempts: attempt, error: answer.error }, 'callback failed for good');
    else log.warn({ ...where, attempt, error: answer.error }, 'callback attempt failed; retrying');
    throw new Error(`callback ${d.event} of batch ${d.batchId}: ${answer.error}`);
  };
}
