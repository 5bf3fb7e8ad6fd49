import type { ResolvedModel } from '../models/catalog.js';
import type { ModelReply, ModelRequest } from '../models/request.js';

/** `invoke` speaks each family's native format; `converse` uses Bedrock's unified API. */
export type ModelApi = 'invoke' | 'converse';

export interface InvokeOptions {
  api: ModelApi;
  /** Aborts the call down to the SDK (timeouts, shutdown). */
  signal?: AbortSignal;
}

/**
 * The one port between the resilience pipeline and Bedrock. The real implementation calls
 * Bedrock through the AWS SDK; unit tests of the chain use a fake.
 * @throws ModelError for every failure, already classified.
 */
export interface ModelClient {
  invoke(model: ResolvedModel, request: ModelRequest, options: InvokeOptions): Promise<ModelReply>;
}

/** The reason our code passes to `AbortController.abort()`, so a classifier can tell why. */
export class CallAborted extends Error {
  override readonly name = 'CallAborted';
  constructor(readonly why: 'timeout' | 'shutdown') {
    super(why === 'timeout' ? 'model call timed out' : 'model call aborted by shutdown');
  }
}
