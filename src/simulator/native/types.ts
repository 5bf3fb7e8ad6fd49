import type { NativeFamily } from '../../models/request.js';
import type { SimError } from '../control.js';

/** One turn of a conversation as the simulator recovers it from a request body. */
export interface Turn {
  role: 'user' | 'assistant';
  text: string;
}

/** The prompt a native (or Converse) body carries, recovered by the simulator to count and answer it. */
export interface ParsedPrompt {
  /** System text; '' when there is none (or the format folds it into the first turn). */
  system: string;
  turns: Turn[];
  /** Output tokens the body asks for, or the family's default when it names none. */
  maxTokens: number;
  /** Stop sequences the body names; empty for families without them (Llama). */
  stopSequences: string[];
  /** Set when the answer must mirror a second body form of the family (Mistral's chat body). */
  form?: 'chat';
}

/** How a generation ended, before each family names it its own way. */
export type SimStop = 'end' | 'length' | 'stop_sequence' | 'filtered';

/** The generated answer of one call, in no family's format yet. */
export interface Generation {
  text: string;
  stop: SimStop;
  /** The stop sequence that ended the text, when `stop` is `stop_sequence`. */
  stopSequence?: string;
  inputTokens: number;
  outputTokens: number;
}

/** What Bedrock merges into the last chunk of every stream (`docs/bedrock-wire.md#stream-metrics`). */
export interface InvocationMetrics {
  inputTokenCount: number;
  outputTokenCount: number;
  invocationLatency: number;
  firstByteLatency: number;
  /** Nova only (prompt caching is reported even when unused). */
  cacheReadInputTokenCount?: number;
  cacheWriteInputTokenCount?: number;
}

/** The facts about the called model a family needs to check a body. */
export interface ModelLimits {
  baseId: string;
  maxOutputTokens: number;
  /** Mistral: the bodies the model takes (catalog `nativeBody`); `prompt` when absent. */
  nativeBody?: 'prompt' | 'chat' | 'both';
}

/** What a family needs besides the generation to build its answer. */
export interface AnswerContext {
  requestId: string;
  baseId: string;
  prompt: ParsedPrompt;
}

/** One family's native wire format, as Bedrock checks and answers it. */
export interface SimFamily {
  family: NativeFamily;
  /** Validates a native InvokeModel body like Bedrock does and recovers its prompt. */
  parse(body: unknown, model: ModelLimits): ParsedPrompt | SimError;
  /**
   * The top-level keys the model's native body may have: Converse merges
   * `additionalModelRequestFields` into that body, so any other key is refused there too.
   */
  keys(model: ModelLimits): ReadonlySet<string>;
  /** The native InvokeModel response body. */
  respond(g: Generation, a: AnswerContext): Record<string, unknown>;
  /**
   * The native stream chunks for these text pieces; the last one carries `metrics` under
   * {@link METRICS_KEY}. The metrics object is filled in while streaming, so it is referenced,
   * not copied.
   */
  chunks(
    g: Generation,
    pieces: readonly string[],
    metrics: InvocationMetrics,
    a: AnswerContext,
  ): Record<string, unknown>[];
}

/** Key of the metrics object Bedrock adds to every family's last stream chunk. */
export const METRICS_KEY = 'amazon-bedrock-invocationMetrics';
