import { z } from 'zod';
import { type SimError, simError } from './control.js';
import type { ParsedPrompt } from './native/types.js';

const Content = z.array(z.looseObject({ text: z.string().optional() })).min(1);

const ConverseBody = z.looseObject({
  messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: Content })).optional(),
  system: z.array(z.looseObject({ text: z.string().optional() })).optional(),
  inferenceConfig: z
    .object({
      maxTokens: z.number().int().min(1).optional(),
      temperature: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      stopSequences: z.array(z.string().min(1)).max(2500).optional(),
    })
    .optional(),
  additionalModelRequestFields: z.unknown().optional(),
});

/**
 * A ConverseRequest (reference §4.1) as a prompt. Bedrock accepts an empty body shape-wise
 * but refuses an empty or non-alternating conversation.
 */
export function parseConverse(raw: unknown, limits: { maxOutputTokens: number }): ParsedPrompt | SimError {
  const parsed = ConverseBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return simError(
      'ValidationException',
      `1 validation error detected: Value at '${issue?.path.join('.') ?? ''}' failed to satisfy constraint: ${issue?.message ?? 'invalid'}`,
    );
  }
  const body = parsed.data;
  const messages = body.messages ?? [];
  if (messages.length === 0)
    return simError(
      'ValidationException',
      'The model returned the following errors: messages: at least one message is required',
    );
  if (messages[0]?.role !== 'user')
    return simError(
      'ValidationException',
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]?.role === messages[i - 1]?.role) {
      return simError(
        'ValidationException',
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    }
  }
  const maxTokens = body.inferenceConfig?.maxTokens ?? Math.min(4_096, limits.maxOutputTokens);
  if (maxTokens > limits.maxOutputTokens) {
    return simError(
      'ValidationException',
      `The maximum tokens you requested exceeds the model limit of ${limits.maxOutputTokens}. Try again with a maximum tokens value that is lower than ${limits.maxOutputTokens}.`,
    );
  }
  return {
    system: (body.system ?? []).map((s) => s.text ?? '').join('\n'),
    turns: messages.map((m) => ({ role: m.role, text: m.content.map((c) => c.text ?? '').join('') })),
    maxTokens,
    stopSequences: body.inferenceConfig?.stopSequences ?? [],
  };
}
