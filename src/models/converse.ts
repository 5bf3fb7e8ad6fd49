import type {
  ConverseCommandInput,
  ConverseCommandOutput,
  ConverseStreamOutput,
  Message,
} from '@aws-sdk/client-bedrock-runtime';
import { mapStop, maxTokensFor, stops, systemText } from './families/common.js';
import type { StreamDelta } from './families/types.js';
import type { ModelInfo } from './info.js';
import type { ModelRequest, NativeReply, StopReason } from './request.js';

const STOP: Readonly<Record<string, StopReason>> = {
  end_turn: 'end_turn',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  content_filtered: 'content_filtered',
  guardrail_intervened: 'content_filtered',
  model_context_window_exceeded: 'max_tokens',
};

const stopReason = (value: string | undefined): StopReason => mapStop(STOP, value);

/**
 * The unified request as a Converse call. Parameters Converse does not unify (Claude `top_k`,
 * Cohere `k`, ...) travel in `additionalModelRequestFields`, taken from the job's native
 * overrides for this model's family. Bedrock refuses a system prompt for models without one
 * (Titan Text, Mistral 7B and Mixtral: catalog `converse.system`): for them the system text
 * opens the first user turn, as their native formats do.
 */
export function toConverseInput(
  modelId: string,
  request: ModelRequest,
  model: ModelInfo,
): ConverseCommandInput {
  const stopSequences = stops(request);
  const system = systemText(request);
  const folded = system !== undefined && !model.converse.system;
  let opened = false;
  const messages: Message[] = request.messages.map((m) => {
    const fold = folded && !opened && m.role === 'user';
    if (fold) opened = true;
    return { role: m.role, content: [{ text: fold ? `${system}\n\n${m.content}` : m.content }] };
  });
  const extra = request.native?.[model.family];
  return {
    modelId,
    messages,
    ...(system && !folded ? { system: [{ text: system }] } : {}),
    inferenceConfig: {
      maxTokens: maxTokensFor(request, model),
      ...(request.params?.temperature !== undefined ? { temperature: request.params.temperature } : {}),
      ...(request.params?.topP !== undefined ? { topP: request.params.topP } : {}),
      ...(stopSequences ? { stopSequences } : {}),
    },
    ...(extra
      ? { additionalModelRequestFields: extra as ConverseCommandInput['additionalModelRequestFields'] }
      : {}),
  };
}

/** A Converse answer in the unified shape. */
export function fromConverseOutput(
  output: Pick<ConverseCommandOutput, 'output' | 'stopReason'> &
    Partial<Pick<ConverseCommandOutput, 'usage'>>,
): NativeReply {
  const content = output.output && 'message' in output.output ? (output.output.message?.content ?? []) : [];
  const text = content
    .map((block) => ('text' in block && typeof block.text === 'string' ? block.text : ''))
    .join('');
  return {
    text,
    stopReason: stopReason(output.stopReason),
    ...(output.usage
      ? {
          usage: { inputTokens: output.usage.inputTokens ?? 0, outputTokens: output.usage.outputTokens ?? 0 },
        }
      : {}),
  };
}

/** One ConverseStream event in the unified delta shape. */
export function fromConverseStreamEvent(event: ConverseStreamOutput): StreamDelta {
  if (event.contentBlockDelta?.delta && 'text' in event.contentBlockDelta.delta) {
    const text = event.contentBlockDelta.delta.text;
    return typeof text === 'string' && text.length > 0 ? { text } : {};
  }
  if (event.messageStop) return { stopReason: stopReason(event.messageStop.stopReason) };
  if (event.metadata?.usage) {
    return {
      usage: {
        inputTokens: event.metadata.usage.inputTokens ?? 0,
        outputTokens: event.metadata.usage.outputTokens ?? 0,
      },
    };
  }
  return {};
}
