import type { Family } from '../../models/request.js';
import type { SimError } from '../control.js';

/** The prompt a native body carries, recovered by the simulator to count and answer it. */
export interface ParsedPrompt {
  system: string;
  turns: { role: 'user' | 'assistant'; text: string }[];
  maxTokens: number;
  stopSequences: string[];
}

/** How a generation ended, before each family names it its own way. */
export type SimStop = 'end' | 'length' | 'stop_sequence' | 'filtered';

export interface Generation {
  text: string;
  stop: SimStop;
  stopSequence?: string;
  inputTokens: number;
  outputTokens: number;
}

export interface InvocationMetrics {
  inputTokenCount: number;
  outputTokenCount: number;
  invocationLatency: number;
  firstByteLatency: number;
}

/** One family's native wire format, as Bedrock checks and answers it. */
export interface SimFamily {
  family: Family;
  /** Validates a native body like Bedrock; the limits are the called model's. */
  parse(body: unknown, limits: { maxOutputTokens: number }): ParsedPrompt | SimError;
  /** The native InvokeModel response body. */
  respond(g: Generation, requestId: string): Record<string, unknown>;
  /** Native stream chunks for the text pieces; the last carries the invocation metrics. */
  chunks(
    g: Generation,
    pieces: readonly string[],
    metrics: InvocationMetrics,
    requestId: string,
  ): Record<string, unknown>[];
}

export const METRICS_KEY = 'amazon-bedrock-invocationMetrics';
