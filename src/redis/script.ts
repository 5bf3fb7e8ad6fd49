import type { RedisClient } from './connect.js';

/** Runs a Lua script with `keys` and `args`; the reply is Redis's, untyped. */
export type ScriptRunner = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

type WithScripts = Record<string, (...args: (string | number)[]) => Promise<unknown>>;

/**
 * Registers `lua` on the connection under `name` (ioredis then sends EVALSHA and falls back to
 * EVAL when the server has not seen the script) and returns a typed caller.
 * Names are namespaced (`bj…`) because the connection may be shared with BullMQ.
 */
export function defineScript(redis: RedisClient, name: string, lua: string): ScriptRunner {
  redis.defineCommand(name, { lua });
  const commands = redis as unknown as WithScripts;
  return (keys, args) => {
    const command = commands[name];
    if (!command) throw new Error(`Lua script ${name} is not defined on this connection`);
    return command.call(redis, keys.length, ...keys, ...args);
  };
}

/**
 * The opening of a script whose ARGV[1] is the time in ms (or -1 for Redis's own `TIME`, one
 * clock for the whole fleet) and ARGV[2] the operation: sets the locals `now` and `mode`.
 */
export const NOW_AND_MODE_LUA = `local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local mode = ARGV[2]`;
