import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { ChatBedrockConverse } from '@langchain/aws';
import { type Answer, type CallerOptions, type ChainCaller, PLACEHOLDER_CREDENTIALS } from './types.js';

/**
 * What a team writes with LangChain: a `ChatBedrockConverse` per model, the first with
 * `.withFallbacks([...the rest])`. The models share one `BedrockRuntimeClient` pointed at the
 * simulator, with the SDK's default retries, since LangChain's chat models do not retry
 * by themselves.
 */
export function langchainCaller(options: CallerOptions): ChainCaller {
  const client = new BedrockRuntimeClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: PLACEHOLDER_CREDENTIALS,
  });
  const models = options.chain.map(
    (model) =>
      new ChatBedrockConverse({
        model,
        client,
        region: options.region,
        credentials: PLACEHOLDER_CREDENTIALS,
        maxTokens: options.maxTokens,
      }),
  );
  const [first, ...rest] = models;
  if (!first) throw new RangeError('chain: at least one model');
  const llm = first.withFallbacks(rest);
  return {
    async answer(job, signal): Promise<Answer> {
      const message = await llm.invoke(job.prompt, signal ? { signal } : {});
      return {
        text: message.text,
        inputTokens: message.usage_metadata?.input_tokens ?? 0,
        outputTokens: message.usage_metadata?.output_tokens ?? 0,
      };
    },
    async close() {
      client.destroy();
    },
  };
}
