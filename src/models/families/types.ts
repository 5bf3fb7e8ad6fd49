import type { ModelInfo } from '../info.js';
import type { ModelRequest, NativeFamily, NativeReply, StopReason, Usage } from '../request.js';

/** A native InvokeModel body: a JSON object in the family's own format. */
export type NativeBody = Record<string, unknown>;

/** What one decoded InvokeModelWithResponseStream chunk contributes. */
export interface StreamDelta {
  text?: string;
  stopReason?: StopReason;
  /** From the family's own fields or the final chunk's `amazon-bedrock-invocationMetrics`. */
  usage?: Partial<Usage>;
}

/**
 * One model family's native format. `toNative` is the prompt transformation: the same
 * unified request becomes each family's native prompt when a chain moves on.
 */
export interface FamilyAdapter {
  readonly family: NativeFamily;
  /**
   * Builds the native body. `request.native?.[family]` is merged on top; overrides for other
   * families are ignored. `params.maxTokens` defaults to a family default capped at the model's max output.
   */
  toNative(request: ModelRequest, model: ModelInfo): NativeBody;
  /**
   * Parses a native InvokeModel response body (already JSON-parsed).
   * @throws Error when the body is not this family's response shape.
   */
  fromNative(body: unknown): NativeReply;
  /** Parses one decoded stream chunk (already JSON-parsed). */
  fromStreamChunk(chunk: unknown): StreamDelta;
}
