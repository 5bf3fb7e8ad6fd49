/**
 * Lua shared by the scripts through which a retry on purpose replaces a failed result
 * (`../queue/retry-scripts.ts`, and saving the retried job's own result in `./store.ts`).
 *
 * A retry queues the new generation of a job before the failed result goes, so the job always
 * has its failed result or is queued, wherever the process doing it dies. The batch stops
 * counting the failed result when the id's generation goes up, before the job is queued again:
 * a failed result counts in the batch only while it is of the id's current generation. So no
 * new result can end the batch while results it is about to replace still count, and the record
 * itself stays readable until the retry's last step or the new generation's own result (whichever
 * comes first) deletes it.
 *
 * - `reopenBatch(batchKey)`: a done batch is no longer done: `doneAt` and the callback's state
 *   are cleared and `round` goes up, so it ends again (with a `done` entry and a callback
 *   delivery of its own) once the retried jobs have results. Nothing for a batch not done.
 * - `uncountFailed(batchKey, rec)`: takes a failed record off the batch's `failed` count and its
 *   lane's (what the run cost stays counted: it was spent), and reopens the batch.
 * - `dropSuperseded(resultKey, gen)`: deletes the id's result when it is failed and of a
 *   generation older than `gen`; returns true when it did.
 * - `failedRecord(raw)`: the decoded record when `raw` is a failed result, else nil.
 */
export const SUPERSEDE_LUA = `
local function failedRecord(raw)
  if not raw then return nil end
  local ok, rec = pcall(cjson.decode, raw)
  if ok and type(rec) == 'table' and rec.status == 'failed' then return rec end
  return nil
end

local function reopenBatch(batchKey)
  if redis.call('HEXISTS', batchKey, 'doneAt') == 0 then return end
  redis.call('HDEL', batchKey, 'doneAt', 'doneEventId', 'callbackStatus', 'callbackAttempts', 'callbackLastError')
  redis.call('HINCRBY', batchKey, 'round', 1)
  -- The delivery of the end before no longer speaks for the batch (see the record script).
  if redis.call('HEXISTS', batchKey, 'callbackUrl') == 1 then redis.call('HSET', batchKey, 'callbackDeliveryId', '') end
end

local function uncountFailed(batchKey, rec)
  local lane = type(rec.lane) == 'string' and rec.lane or 'online'
  redis.call('HINCRBY', batchKey, 'failed', -1)
  redis.call('HINCRBY', batchKey, lane .. ':failed', -1)
  reopenBatch(batchKey)
end

local function dropSuperseded(resultKey, gen)
  local rec = failedRecord(redis.call('GET', resultKey))
  if not rec or (tonumber(rec.retry) or 0) >= gen then return false end
  redis.call('DEL', resultKey)
  return true
end
`;
