import { AsyncLocalStorage } from 'node:async_hooks';
import type { ModelClient } from '../bedrock/types.js';
import type { Logger } from '../log.js';
import { isModelError } from '../models/errors.js';
import type { ModelRequest } from '../models/request.js';

/**
 * The logger of the job that runs in this async context (set by the processor), so a model
 * call deep in the chain logs with the job's `jobId` and `batchId`.
 */
export const jobLogs = new AsyncLocalStorage<Logger>();

function size(request: ModelRequest): { turns: number; chars: number } {
  const chars = request.messages.reduce((n, m) => n + m.content.length, request.system?.length ?? 0);
  return { turns: request.messages.length, chars };
}

/**
 * Wraps the model client so every call is logged at trace level: `model request` when it is
 * sent, `model reply` or `model call failed` when it ends. The prompt (system, turns, params,
 * native fields), the reply's text and the failure's message are in those lines only with
 * `logPrompts` (`LOG_PROMPTS=1`); otherwise only model, sizes, usage, stop reason and error
 * kind are. The resilience pipeline's events never carry text.
 */
export function loggedClient(client: ModelClient, base: Logger, logPrompts: boolean): ModelClient {
  return {
    async invoke(model, request, options) {
      const log = jobLogs.getStore() ?? base;
      if (!log.isLevelEnabled('trace')) return client.invoke(model, request, options);
      const call = { model: model.requestId, api: options.api };
      log.trace(
        {
          ...call,
          ...size(request),
          ...(logPrompts
            ? {
                system: request.system,
                messages: request.messages,
                params: request.params,
                native: request.native,
              }
            : {}),
        },
        'model request',
      );
      try {
        const reply = await client.invoke(model, request, options);
        log.trace(
          {
            ...call,
            stopReason: reply.stopReason,
            usage: reply.usage,
            latencyMs: reply.latencyMs,
            ...(logPrompts ? { text: reply.text } : {}),
          },
          'model reply',
        );
        return reply;
      } catch (e) {
        log.trace(
          {
            ...call,
            kind: isModelError(e) ? e.kind : 'unknown',
            ...(isModelError(e) && e.httpStatus ? { httpStatus: e.httpStatus } : {}),
            ...(logPrompts && e instanceof Error ? { reason: e.message } : {}),
          },
          'model call failed',
        );
        throw e;
      }
    },
  };
}
