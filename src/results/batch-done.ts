import { QUEUE_CALLBACK_LUA } from '../callbacks/outbox-lua.js';

/**
 * Lua shared by every script after which a batch may be done (saving a result, sealing):
 * defines `finishBatch(batchKey, streamKey, outboxKey, batchId, maxLen)`.
 *
 * A batch is done when it is sealed and `completed + failed >= total`. The first script to see
 * that sets `doneAt` (Redis's clock, ms) and `doneEventId`, appends one `status: done` entry with
 * the final counters to the results stream and, when the batch has a callback, writes its
 * delivery to the outbox. `doneAt` is checked first, so whichever of the last result and the
 * seal comes second ends the batch, and nothing ends it twice. A hash without `total` (the
 * batch expired, then a late result recreated it) is never done. A hash without `sealed` was
 * written before batches could be left open and counts as sealed. A batch reopened by a retry
 * on purpose (`round` > 0) ends again with a `done` entry and a callback delivery of its own.
 * Returns 0 when the batch is not done now, 1 when it just became done, 2 when a callback
 * delivery was written too.
 */
export const FINISH_BATCH_LUA = `${QUEUE_CALLBACK_LUA}
local function finishBatch(batchKey, streamKey, outboxKey, batchId, maxLen)
  local b = redis.call('HMGET', batchKey, 'total', 'completed', 'failed', 'sealed', 'doneAt', 'callbackUrl', 'round')
  if not b[1] or b[4] == '0' or b[5] then return 0 end
  local total, completed, failed = tonumber(b[1]), tonumber(b[2] or '0'), tonumber(b[3] or '0')
  if completed + failed < total then return 0 end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local entry = redis.call('XADD', streamKey, 'MAXLEN', '~', maxLen, '*', 'batchId', batchId, 'status', 'done',
    'total', total, 'completed', completed, 'failed', failed, 'doneAt', now)
  redis.call('HSET', batchKey, 'doneAt', now, 'doneEventId', entry)
  if not b[6] then return 1 end
  local deliveryId = queueCallback(outboxKey, { event = 'batch.done', url = b[6], batchId = batchId,
    total = total, completed = completed, failed = failed, at = now, round = tonumber(b[7] or '0') })
  redis.call('HSET', batchKey, 'callbackStatus', 'pending', 'callbackDeliveryId', deliveryId)
  return 2
end
`;
