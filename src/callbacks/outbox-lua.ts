/**
 * Lua shared by the scripts that end batches and save failed results: defines
 * `queueCallback(outboxKey, delivery)`, which writes one delivery to the outbox in the same
 * script that decided it is due, so a crash right after cannot lose it, and returns its id.
 * The delivery id is a hash of the event, batch id and job id (ids never hold a newline), and
 * of `round` when it is above 0 (the batch's end after a retry on purpose, or a retried job's
 * failure: a new event), so writing the same event twice leaves one entry. The entry's shape
 * is `DeliverySchema` in `./delivery.ts`.
 */
export const QUEUE_CALLBACK_LUA = `
local function queueCallback(outboxKey, delivery)
  local round = (delivery.round and delivery.round > 0) and ('\\n' .. delivery.round) or ''
  delivery.round = nil
  delivery.deliveryId = redis.sha1hex(delivery.event .. '\\n' .. delivery.batchId .. '\\n' .. (delivery.jobId or '') .. round)
  redis.call('HSET', outboxKey, delivery.deliveryId, cjson.encode(delivery))
  return delivery.deliveryId
end
`;
