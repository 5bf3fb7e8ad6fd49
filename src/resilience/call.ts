import { CallAborted, type ModelApi, type ModelClient } from '../bedrock/types.js';
import type { Clock } from '../clock.js';
import type { ResolvedModel } from '../models/catalog.js';
import { classifyError, ModelError } from '../models/errors.js';
import type { ModelReply, ModelRequest } from '../models/request.js';

export interface CallOptions {
  api: ModelApi;
  timeoutMs: number;
  clock: Clock;
  /** The job's signal: aborting it aborts the call (shutdown). */
  signal?: AbortSignal;
}

/**
 * One model call with its own signal, aborted after `timeoutMs` on `clock` or when the job's
 * signal aborts; the abort reason is a {@link CallAborted} so the client can tell why. The
 * call settles on abort even if the client ignores its signal.
 * @throws ModelError: `timeout` after our timeout or a shutdown, else the client's own.
 */
export async function callWithTimeout(
  client: ModelClient,
  model: ResolvedModel,
  request: ModelRequest,
  { api, timeoutMs, clock, signal: jobSignal }: CallOptions,
): Promise<ModelReply> {
  const modelId = model.requestId;
  const call = new AbortController();
  const onJobAbort = (): void => call.abort(new CallAborted('shutdown'));
  if (jobSignal?.aborted) onJobAbort();
  else jobSignal?.addEventListener('abort', onJobAbort, { once: true });
  const timer = new AbortController();
  clock.sleep(timeoutMs, timer.signal).then(
    () => call.abort(new CallAborted('timeout')),
    () => {}, // the call ended first
  );
  const aborted = new Promise<never>((_, reject) => {
    call.signal.addEventListener('abort', () => reject(call.signal.reason), { once: true });
  });
  const invoked = client.invoke(model, request, { api, signal: call.signal });
  invoked.catch(() => {}); // a late rejection after an abort is expected, not unhandled
  aborted.catch(() => {});
  try {
    return await Promise.race([invoked, aborted]);
  } catch (e) {
    const reason: unknown = call.signal.reason;
    if (!(reason instanceof CallAborted)) throw classifyError(e, { modelId });
    const timedOut = reason.why === 'timeout';
    throw new ModelError(
      'timeout',
      timedOut
        ? `model ${modelId} did not answer within ${timeoutMs} ms`
        : `call to ${modelId} aborted by shutdown`,
      { modelId, name: timedOut ? 'TimeoutError' : 'Shutdown', cause: e },
    );
  } finally {
    timer.abort();
    jobSignal?.removeEventListener('abort', onJobAbort);
  }
}
