import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import {
  type Answer,
  type CallerOptions,
  type ChainCaller,
  firstAnswer,
  PLACEHOLDER_CREDENTIALS,
} from './types.js';

/** `standard` is the SDK's default; `adaptive` adds its client-side rate limiter. */
export type SdkRetryMode = 'standard' | 'adaptive';

function textOf(out: ConverseCommandOutput): string {
  return (out.output?.message?.content ?? []).map((block) => block.text ?? '').join('');
}

/**
 * What a team writes with the AWS SDK alone: one `BedrockRuntimeClient` with the SDK's own
 * retries (default `maxAttempts: 3`, in the given mode) and a loop that moves to the next model
 * of the chain when a call still fails after them.
 */
export function sdkCaller(options: CallerOptions & { retryMode: SdkRetryMode }): ChainCaller {
  const client = new BedrockRuntimeClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: PLACEHOLDER_CREDENTIALS,
    retryMode: options.retryMode,
  });
  return {
    async answer(job, signal): Promise<Answer> {
      // A model that fails has been retried by the SDK as far as its strategy allows: next one.
      return firstAnswer(options.chain, signal, async (modelId) => {
        const out = await client.send(
          new ConverseCommand({
            modelId,
            messages: [{ role: 'user', content: [{ text: job.prompt }] }],
            inferenceConfig: { maxTokens: options.maxTokens },
          }),
          { abortSignal: signal },
        );
        return {
          text: textOf(out),
          modelId,
          inputTokens: out.usage?.inputTokens ?? 0,
          outputTokens: out.usage?.outputTokens ?? 0,
        };
      });
    },
    async close() {
      client.destroy();
    },
  };
}
