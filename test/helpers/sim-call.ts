import type { CallContext } from '../../src/simulator/control.js';

/** The model the simulator's unit tests call unless they say otherwise. */
export const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

/** One InvokeModel call of {@link HAIKU} as the simulator's behaviour side sees it; `over` changes any field. */
export function simCall(over: Partial<CallContext> = {}): CallContext {
  return {
    modelId: HAIKU,
    baseId: HAIKU,
    operation: 'invoke',
    inputTokens: 10,
    maxOutputTokens: 10,
    promptText: 'Summarize this report.',
    ...over,
  };
}
