import { z } from 'zod';
import type { ModelRequest, StopReason } from '../request.js';
import {
  defined,
  delta,
  invocationMetrics,
  mapStop,
  maxTokensFor,
  parseAs,
  stops,
  withOverrides,
} from './common.js';
import type { FamilyAdapter } from './types.js';

const STOP: Record<string, StopReason> = {
  FINISHED: 'end_turn',
  LENGTH: 'max_tokens',
  STOP_CRITERIA_MET: 'stop_sequence',
  CONTENT_FILTERED: 'content_filtered',
};

/** Titan accepts only these stop sequences; others are refused by Bedrock, so they are dropped. */
const ALLOWED_STOPS = new Set(['|', 'User:']);

const Response = z.object({
  inputTextTokenCount: z.number(),
  results: z
    .array(
      z.object({ tokenCount: z.number(), outputText: z.string(), completionReason: z.string().nullable() }),
    )
    .min(1),
});

const Chunk = z.object({
  outputText: z.string().optional(),
  completionReason: z.string().nullish(),
  inputTextTokenCount: z.number().nullish(),
  totalOutputTextTokenCount: z.number().nullish(),
});

/**
 * Titan has no roles: the conversation becomes one transcript. The system text opens it,
 * then each turn as `User: …` / `Bot: …`, ending with an open `Bot:` for the answer:
 *
 *     {system}\n\nUser: {u1}\nBot: {a1}\nUser: {u2}\nBot:
 */
export function titanTranscript(request: ModelRequest): string {
  const turns = request.messages.map((m) => `${m.role === 'user' ? 'User' : 'Bot'}: ${m.content}`).join('\n');
  const head = request.system ? `${request.system}\n\n` : '';
  return `${head}${turns}\nBot:`;
}

/** Amazon Titan Text (reference §3.2): `inputText` + `textGenerationConfig`. */
export const titan: FamilyAdapter = {
  family: 'titan',

  toNative(request, model) {
    const stopSequences = stops(request)?.filter((s) => ALLOWED_STOPS.has(s));
    const config = defined({
      maxTokenCount: maxTokensFor(request, model),
      temperature: request.params?.temperature,
      topP: request.params?.topP,
      stopSequences: stopSequences && stopSequences.length > 0 ? stopSequences : undefined,
    });
    return withOverrides(
      { inputText: titanTranscript(request), textGenerationConfig: config },
      request,
      'titan',
    );
  },

  fromNative(body) {
    const r = parseAs('titan', 'response', Response, body);
    const first = r.results[0]!;
    return {
      text: first.outputText,
      stopReason: mapStop(STOP, first.completionReason),
      usage: {
        inputTokens: r.inputTextTokenCount,
        outputTokens: r.results.reduce((n, x) => n + x.tokenCount, 0),
      },
    };
  },

  fromStreamChunk(chunk) {
    const c = parseAs('titan', 'stream chunk', Chunk, chunk);
    const usage = { ...invocationMetrics(chunk) };
    if (typeof c.inputTextTokenCount === 'number') usage.inputTokens ??= c.inputTextTokenCount;
    if (c.completionReason && typeof c.totalOutputTextTokenCount === 'number')
      usage.outputTokens ??= c.totalOutputTextTokenCount;
    return delta(c.outputText, c.completionReason ? mapStop(STOP, c.completionReason) : undefined, usage);
  },
};
