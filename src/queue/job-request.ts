import { DEFAULT_MAX_TOKENS } from '../models/families/common.js';
import type { ModelRequest } from '../models/request.js';
import type { QueuedJob } from './jobs.js';

/**
 * The unified request of a generate job, the same for every model of its chain (summarize
 * jobs are built per model, `summarize/prompt.ts`). Online calls and offline records share it.
 */
export function generateRequest(job: QueuedJob): ModelRequest {
  return {
    ...(job.system ? { system: job.system } : {}),
    messages: job.messages ?? [],
    // The adapters' default, made explicit so the fleet limiter reserves what will be asked for.
    params: { ...job.params, maxTokens: job.params?.maxTokens ?? DEFAULT_MAX_TOKENS },
    ...(job.native ? { native: job.native } : {}),
  };
}
