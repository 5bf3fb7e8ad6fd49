import type { ModelApi } from '../bedrock/types.js';
import type { ResolvedModel } from '../models/catalog.js';
import type { ModelReply, ModelRequest } from '../models/request.js';
import { callWithTimeout } from './call.js';
import type { PolicyParts } from './policy-options.js';

/** How one call ended, and how long it took: the model's answer, or what was thrown instead. */
export type CallEnd =
  | { answered: true; reply: ModelReply; latencyMs: number }
  | { answered: false; error: unknown; latencyMs: number };

/**
 * One call of a model: a slot of this worker's bulkhead, its breaker (which the fleet's probe
 * goes past) and a timeout. Whatever throws once the model answered is bookkeeping, reported
 * and set aside: the answer stands.
 */
export async function callModel(
  { client, config, breaker, clock, slots, guard }: PolicyParts,
  model: ResolvedModel,
  request: ModelRequest,
  { api, probe, signal }: { api: ModelApi; probe: boolean; signal: AbortSignal | undefined },
): Promise<CallEnd> {
  let startedAt = clock.now();
  // Set the moment the model answers: whatever throws after that is bookkeeping, not the call.
  const answer: { reply?: ModelReply } = {};
  let reply: ModelReply;
  try {
    reply = await slots.execute(() => {
      const invoke = async (): Promise<ModelReply> => {
        startedAt = clock.now();
        answer.reply = await callWithTimeout(client, model, request, {
          api,
          timeoutMs: config.timeoutMs,
          clock,
          ...(signal ? { signal } : {}),
        });
        return answer.reply;
      };
      // The fleet's probe goes past this worker's breaker, which may still be counting down.
      return probe ? invoke() : breaker.execute(invoke, signal);
    }, signal);
  } catch (e) {
    if (!answer.reply) return { answered: false, error: e, latencyMs: clock.now() - startedAt };
    // The breaker (or a listener of its events) threw while recording the answer.
    guard.failed('breaker', e);
    reply = answer.reply;
  }
  return { answered: true, reply, latencyMs: clock.now() - startedAt };
}
