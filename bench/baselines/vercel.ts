import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { generateText } from 'ai';
import {
  type Answer,
  type CallerOptions,
  type ChainCaller,
  firstAnswer,
  PLACEHOLDER_CREDENTIALS,
} from './types.js';

/** The AI SDK's own default, written out so the table says what was measured. */
const MAX_RETRIES = 2;

/**
 * What a team writes with the Vercel AI SDK: `generateText` on an `@ai-sdk/amazon-bedrock`
 * provider (Converse over fetch, HTTP/1.1), its `maxRetries`, and a loop that moves to the
 * next model of the chain when a model still fails after them.
 */
export function vercelCaller(options: CallerOptions): ChainCaller {
  const bedrock = createAmazonBedrock({
    region: options.region,
    baseURL: options.endpoint,
    ...PLACEHOLDER_CREDENTIALS,
  });
  return {
    async answer(job, signal): Promise<Answer> {
      return firstAnswer(options.chain, signal, async (modelId) => {
        const result = await generateText({
          model: bedrock(modelId),
          prompt: job.prompt,
          maxOutputTokens: options.maxTokens,
          maxRetries: MAX_RETRIES,
          ...(signal ? { abortSignal: signal } : {}),
        });
        return {
          text: result.text,
          modelId,
          inputTokens: result.usage.inputTokens ?? 0,
          outputTokens: result.usage.outputTokens ?? 0,
        };
      });
    },
    // fetch keeps no client of ours to close.
    async close() {},
  };
}
