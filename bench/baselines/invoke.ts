import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { z } from 'zod';
import {
  type Answer,
  type CallerOptions,
  type ChainCaller,
  firstAnswer,
  PLACEHOLDER_CREDENTIALS,
} from './types.js';

/** The part of an Anthropic Messages answer the baseline keeps. */
const MessagesAnswerSchema = z.object({
  content: z.array(z.object({ text: z.string().optional() })),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }).optional(),
});

/**
 * What a team writes with the AWS SDK and InvokeModel for a Claude model: one
 * `BedrockRuntimeClient` with the SDK's defaults, the Anthropic Messages body, and a loop to
 * the next model of the chain when a call fails. Anthropic models only (the body is theirs).
 */
export function anthropicInvokeCaller(options: CallerOptions): ChainCaller {
  const client = new BedrockRuntimeClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: PLACEHOLDER_CREDENTIALS,
  });
  const decoder = new TextDecoder();
  return {
    async answer(job, signal): Promise<Answer> {
      return firstAnswer(options.chain, signal, async (modelId) => {
        const out = await client.send(
          new InvokeModelCommand({
            modelId,
            contentType: 'application/json',
            accept: 'application/json',
            body: JSON.stringify({
              anthropic_version: 'bedrock-2023-05-31',
              max_tokens: options.maxTokens,
              messages: [{ role: 'user', content: job.prompt }],
            }),
          }),
          { abortSignal: signal },
        );
        const answer = MessagesAnswerSchema.parse(JSON.parse(decoder.decode(out.body)));
        return {
          text: answer.content.map((block) => block.text ?? '').join(''),
          modelId,
          inputTokens: answer.usage?.input_tokens ?? 0,
          outputTokens: answer.usage?.output_tokens ?? 0,
        };
      });
    },
    async close() {
      client.destroy();
    },
  };
}
