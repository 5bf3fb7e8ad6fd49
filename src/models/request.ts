/**
 * The unified request and reply every model family is translated from and to.
 * Data flows one way: a job becomes a {@link ModelRequest}; a family adapter turns it into
 * that family's native body; the native answer comes back as a {@link ModelReply}.
 */

/** Model families whose native InvokeModel formats we speak. */
export const NATIVE_FAMILIES = ['anthropic', 'titan', 'nova', 'llama', 'mistral', 'cohere'] as const;
/** A family with a native adapter (`src/models/families/`). */
export type NativeFamily = (typeof NATIVE_FAMILIES)[number];
/**
 * Providers whose models we serve through Converse only: we build no native body for them, so
 * a job asking for `api: "invoke"` is served through Converse (`docs/architecture.md#the-job`).
 */
export const CONVERSE_ONLY_FAMILIES = [
  'openai',
  'deepseek',
  'qwen',
  'writer',
  'google',
  'minimax',
  'moonshot',
  'nvidia',
  'zai',
] as const;
/** Every family a model id can belong to: native ones first, then the Converse-only ones. */
export const FAMILIES = [...NATIVE_FAMILIES, ...CONVERSE_ONLY_FAMILIES] as const;
export type Family = (typeof FAMILIES)[number];

/** True when we speak the family's native InvokeModel format. */
export function isNativeFamily(family: Family): family is NativeFamily {
  return (NATIVE_FAMILIES as readonly string[]).includes(family);
}

export type Role = 'user' | 'assistant';

export interface ChatMessage {
  role: Role;
  content: string;
}

/** Generation parameters shared by every family; each adapter maps them to its own names. */
export interface GenerationParams {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

/** Extra native fields per family, merged into that family's body and ignored by the others. */
export type NativeOverrides = Partial<Record<Family, Record<string, unknown>>>;

export interface ModelRequest {
  system?: string;
  /** Alternating turns, first one from the user. */
  messages: ChatMessage[];
  params?: GenerationParams;
  native?: NativeOverrides;
}

/** One vocabulary for why generation stopped, whatever the family called it. */
export const STOP_REASONS = ['end_turn', 'max_tokens', 'stop_sequence', 'content_filtered', 'other'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** What a family's `fromNative` extracts from a native answer. */
export interface NativeReply {
  text: string;
  stopReason: StopReason;
  /** Absent when the body carries no counts (Mistral); the client fills them from headers. */
  usage?: Usage;
}

/** The unified answer of one successful model call. */
export interface ModelReply {
  text: string;
  stopReason: StopReason;
  usage: Usage;
  /** The model id that was called (as sent: base id, profile id or ARN). */
  modelId: string;
  latencyMs: number;
  requestId?: string;
}

/** Headers carrying usage on non-streaming InvokeModel answers (`docs/bedrock-wire.md#response-headers`). */
export const USAGE_HEADERS = {
  inputTokens: 'x-amzn-bedrock-input-token-count',
  outputTokens: 'x-amzn-bedrock-output-token-count',
  latencyMs: 'x-amzn-bedrock-invocation-latency',
} as const;
