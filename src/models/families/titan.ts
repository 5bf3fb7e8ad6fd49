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
  systemText,
  withOverrides,
} from './common.js';
import type { FamilyAdapter } from './types.js';

/**
 * The service says `FINISH` for a completed answer; AWS's model page spells it `FINISHED`, so
 * both are read (`docs/bedrock-wire.md#amazon-titan-text`).
 */
const STOP: Record<string, StopReason> = {
  FINISH: 'end_turn',
  FINISHED: 'end_turn',
  LENGTH: 'max_tokens',
  STOP_CRITERIA_MET: 'stop_sequence',
  CONTENT_FILTERED: 'content_filtered',
};

/** The only stop sequences Titan accepts; Bedrock refuses the body if any other is sent. */
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
 * Titan has no roles, so the conversation becomes one transcript in the format Titan was tuned
 * on. The system text, when there is one, opens it as plain text followed by a blank line;
 * then each turn on its own line as `User: …` or `Bot: …`; it ends with an open `Bot:` for
 * the answer. Turn text is kept as is (no escaping), so a newline inside a turn stays a newline:
 *
 *     {system}\n\nUser: {u1}\nBot: {a1}\nUser: {u2}\nBot:
 */
export function titanTranscript(request: ModelRequest): string {
  const turns = request.messages.map((m) => `${m.role === 'user' ? 'User' : 'Bot'}: ${m.content}`).join('\n');
  const system = systemText(request);
  const head = system ? `${system}\n\n` : '';
  return `${head}${turns}\nBot:`;
}

/**
 * Amazon Titan Text (`docs/bedrock-wire.md#amazon-titan-text`): `{ inputText, textGenerationConfig }`, with the
 * transcript of {@link titanTranscript}. Titan accepts only `|` and `User:` as stop sequences:
 * any other stop sequence of the job is dropped rather than failing the call.
 */
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
