import type { ModelApi } from '../bedrock/types.js';
import type { Config } from '../config.js';
import type { ResolvedModel } from '../models/catalog.js';
import type { Family, GenerationParams, NativeOverrides } from '../models/request.js';
import { estimateTokens } from '../models/tokens.js';
import { type ChainInput, type ChainResult, runChain } from '../resilience/chain.js';
import type { TokenCalibration } from './calibration.js';
import { fitsModel } from './plan.js';
import { buildSummaryRequest } from './prompt.js';

/** One summarization call down the fallback chain. */
export interface SummaryChainInput {
  document: string;
  language: string;
  /** True when `document` is the joined partial summaries of a split document (the merge step). */
  reduce: boolean;
  /** The models to try, in chain order. */
  models: ResolvedModel[];
  api: ModelApi;
  /** The job's generation parameters, `maxTokens` set. */
  params: GenerationParams;
  native?: NativeOverrides;
  config: Pick<Config, 'summarize'>;
  /** Document tokens a call to each model may spend (see `chunkBudget`). */
  budget: (model: ResolvedModel) => number;
  /** Policies, limiter and events of the chain. */
  chain: Omit<ChainInput, 'models' | 'request' | 'api' | 'prepare' | 'signal'>;
  /** Learns from the answer how far our token estimate is from the model's count. */
  calibration?: TokenCalibration;
  /** The job's signal (shutdown). */
  signal?: AbortSignal;
}

/**
 * Asks the chain for a summary of the whole document: each model gets the prompt written for
 * its family, and a model the document does not fit is skipped without a call (recorded as
 * `context_overflow`). The answering model's input count calibrates our estimate for it.
 * @throws what {@link runChain} throws; a `ChainExhaustedError` whose attempts show skips
 *   means the document must be split for a smaller window.
 */
export async function runSummaryChain(input: SummaryChainInput): Promise<ChainResult> {
  const { document, budget } = input;
  const sent = new Map<string, { family: Family; text: string }>();
  const out = await runChain({
    ...input.chain,
    models: input.models,
    api: input.api,
    request: { messages: [] },
    ...(input.signal ? { signal: input.signal } : {}),
    prepare: (m) => {
      if (!fitsModel(document, m, budget(m))) return 'skip';
      const request = buildSummaryRequest({
        document,
        family: m.family,
        language: input.language,
        reduce: input.reduce,
        params: input.params,
        ...(input.native ? { native: input.native } : {}),
        config: input.config,
      });
      sent.set(m.requestId, {
        family: m.family,
        text: `${request.system ?? ''}\n${request.messages.map((x) => x.content).join('\n')}`,
      });
      return request;
    },
  });
  const served = sent.get(out.modelId);
  if (served && input.calibration) {
    input.calibration.observe(
      out.modelId,
      estimateTokens(served.text, served.family),
      out.reply.usage.inputTokens,
    );
  }
  return out;
}
