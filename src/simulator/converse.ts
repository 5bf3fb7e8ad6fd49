import { z } from 'zod';
import type { ConverseFeatures } from '../models/info.js';
import type { Family } from '../models/request.js';
import { type SimError, simError } from './control.js';
import { simFamilyOf } from './native/index.js';
import type { Generation, ModelLimits, ParsedPrompt, SimStop, Turn } from './native/types.js';
import { malformed } from './native/validate.js';

/** Converse's output budget when `inferenceConfig.maxTokens` is absent, capped at the model's. */
const DEFAULT_MAX_TOKENS = 4_096;

const Block = z.looseObject({ text: z.string().optional() });

/** The members of a ConverseRequest the simulator reads (`docs/bedrock-wire.md#converse-requests`); others pass unchecked. */
const ConverseBody = z.looseObject({
  messages: z
    .array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.array(Block).min(1) }))
    .optional(),
  system: z.array(Block).optional(),
  inferenceConfig: z
    .looseObject({
      maxTokens: z.number().int().min(1).optional(),
      temperature: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      stopSequences: z.array(z.string().min(1)).max(2500).optional(),
    })
    .optional(),
  toolConfig: z
    .looseObject({ tools: z.array(z.unknown()).optional(), toolChoice: z.looseObject({}).optional() })
    .optional(),
  additionalModelRequestFields: z.record(z.string(), z.unknown()).optional(),
});
type ConverseRequest = z.infer<typeof ConverseBody>;

/** What Converse needs to know of the called model besides its limits. */
export interface ConverseModel extends ModelLimits {
  family: Family;
  /** What the model takes beyond messages (catalog `converse`). */
  features: ConverseFeatures;
}

/** Converse's unified stop reasons (`docs/bedrock-wire.md#converse-responses`). */
export const CONVERSE_STOP: Readonly<Record<SimStop, string>> = {
  end: 'end_turn',
  length: 'max_tokens',
  stop_sequence: 'stop_sequence',
  filtered: 'content_filtered',
};

/** `['messages', 1, 'role']` → `messages.2.member.role`, as AWS request validation names members. */
const memberPath = (path: readonly PropertyKey[]): string =>
  path.map((p) => (typeof p === 'number' ? `${p + 1}.member` : String(p))).join('.');

function constraint(issue: z.core.$ZodIssue, present: boolean): string {
  switch (issue.code) {
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int'
        ? `Member must have value less than or equal to ${String(issue.maximum)}`
        : `Member must have length less than or equal to ${String(issue.maximum)}`;
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'int'
        ? `Member must have value greater than or equal to ${String(issue.minimum)}`
        : `Member must have length greater than or equal to ${String(issue.minimum)}`;
    case 'invalid_value':
      return `Member must satisfy enum value set: [${issue.values.map(String).join(', ')}]`;
    case 'invalid_type':
      return present ? `Member must be of type ${issue.expected}` : 'Member must not be null';
    default:
      return issue.message;
  }
}

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const key of path)
    v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** A request-shape problem in AWS's own words: `1 validation error detected: Value at '…' failed to satisfy constraint: …`. */
function shapeError(issues: readonly z.core.$ZodIssue[], body: unknown): SimError {
  const parts = issues.map((issue) => {
    const value = valueAt(body, issue.path);
    const shown = value === undefined ? 'null' : typeof value === 'object' ? '' : String(value);
    return `Value${shown ? ` '${shown}'` : ''} at '${memberPath(issue.path)}' failed to satisfy constraint: ${constraint(issue, value !== undefined)}`;
  });
  const count = parts.length === 1 ? '1 validation error' : `${parts.length} validation errors`;
  return simError('ValidationException', `${count} detected: ${parts.join('; ')}`);
}

const refuse = (message: string): SimError => simError('ValidationException', message);

/**
 * The conversation rules Bedrock applies to every model: user first, roles alternating, no
 * blank text block (empty or only whitespace), checked message by message.
 */
function conversationError(messages: NonNullable<ConverseRequest['messages']>): SimError | undefined {
  const startWithUser =
    'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  if (messages[0]?.role !== 'user') return refuse(startWithUser);
  for (const [i, message] of messages.entries()) {
    if (i > 0 && message.role === messages[i - 1]?.role)
      return refuse(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    for (const [j, block] of message.content.entries()) {
      if (block.text !== undefined && block.text.trim().length === 0)
        return refuse(
          `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`,
        );
    }
  }
  return undefined;
}

/**
 * What the called model does not take (`docs/bedrock-wire.md#what-converse-refuses-per-model`): a
 * system prompt, tools (at all, or while streaming), a `toolChoice` member, and
 * `additionalModelRequestFields` keys its native body does not have (Bedrock merges them into
 * that body, so its schema validator words the refusal).
 */
function featureError(body: ConverseRequest, model: ConverseModel, stream: boolean): SimError | undefined {
  const { features } = model;
  if (body.system && body.system.length > 0 && !features.system)
    return refuse(
      "This model doesn't support system messages. Try again without a system message or use a model that supports system messages.",
    );
  if (body.toolConfig) {
    if (features.tools === 'none') return refuse("This model doesn't support tool use.");
    if (features.tools === 'unary' && stream)
      return refuse("This model doesn't support tool use in streaming mode.");
    const choice = Object.keys(body.toolConfig.toolChoice ?? {})[0];
    if (choice !== undefined && !(features.toolChoice as readonly string[]).includes(choice))
      return refuse(
        `This model doesn't support the toolConfig.toolChoice.${choice} field. Remove toolConfig.toolChoice.${choice} and try again.`,
      );
  }
  // Families without a native reading here pass their extra fields unchecked.
  const known = simFamilyOf(model.family)?.keys(model);
  for (const key of Object.keys(body.additionalModelRequestFields ?? {}))
    if (known && !known.has(key)) return malformed(`#: extraneous key [${key}] is not permitted`);
  return undefined;
}

/**
 * A ConverseRequest (`docs/bedrock-wire.md#converse-requests`) as a prompt. The shape allows
 * an empty body, but Bedrock refuses what the model does not take, an empty, non-alternating
 * or blank conversation, and a `maxTokens` above the model's.
 * @param stream true for ConverseStream, which some models take without tools only
 */
export function parseConverse(raw: unknown, model: ConverseModel, stream: boolean): ParsedPrompt | SimError {
  const parsed = ConverseBody.safeParse(raw);
  if (!parsed.success) return shapeError(parsed.error.issues, raw);
  const body = parsed.data;
  const wrong = featureError(body, model, stream) ?? conversationError(body.messages ?? []);
  if (wrong) return wrong;
  const turns: Turn[] = (body.messages ?? []).map((m) => ({
    role: m.role,
    text: m.content.map((c) => c.text ?? '').join(''),
  }));
  const maxTokens = body.inferenceConfig?.maxTokens ?? Math.min(DEFAULT_MAX_TOKENS, model.maxOutputTokens);
  if (maxTokens > model.maxOutputTokens) {
    return refuse(
      `The maximum tokens you requested exceeds the model limit of ${model.maxOutputTokens}. Try again with a maximum tokens value that is lower than ${model.maxOutputTokens}.`,
    );
  }
  return {
    system: (body.system ?? []).map((s) => s.text ?? '').join('\n'),
    turns,
    maxTokens,
    stopSequences: body.inferenceConfig?.stopSequences ?? [],
  };
}

const usageOf = (g: Generation) => ({
  inputTokens: g.inputTokens,
  outputTokens: g.outputTokens,
  totalTokens: g.inputTokens + g.outputTokens,
});

/** The ConverseResponse body (`docs/bedrock-wire.md#converse-responses`). */
export function converseResponse(g: Generation, latencyMs: number): Record<string, unknown> {
  return {
    output: { message: { role: 'assistant', content: [{ text: g.text }] } },
    stopReason: CONVERSE_STOP[g.stop],
    usage: usageOf(g),
    metrics: { latencyMs },
  };
}

/** One ConverseStream event: its `:event-type` and its payload (not wrapped). */
export interface ConverseEvent {
  type: string;
  payload: Record<string, unknown>;
}

/**
 * The ConverseStream events for a generation (`docs/bedrock-wire.md#converse-streams`): messageStart, one
 * contentBlockDelta per piece, contentBlockStop, messageStop, metadata. The metadata event
 * holds `metrics` by reference, so the streamer can fill in the latency just before sending it.
 */
export function converseEvents(
  g: Generation,
  pieces: readonly string[],
  metrics: { latencyMs: number },
): ConverseEvent[] {
  const events: ConverseEvent[] = [{ type: 'messageStart', payload: { role: 'assistant' } }];
  for (const text of pieces) {
    if (text.length > 0)
      events.push({ type: 'contentBlockDelta', payload: { contentBlockIndex: 0, delta: { text } } });
  }
  events.push(
    { type: 'contentBlockStop', payload: { contentBlockIndex: 0 } },
    { type: 'messageStop', payload: { stopReason: CONVERSE_STOP[g.stop] } },
    { type: 'metadata', payload: { usage: usageOf(g), metrics } },
  );
  return events;
}
