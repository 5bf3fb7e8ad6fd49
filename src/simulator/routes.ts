import type { ModelCatalog } from '../models/catalog.js';
import { inferFamily, parseModelId } from '../models/model-id.js';
import type { Family } from '../models/request.js';
import { estimateTokens } from '../models/tokens.js';
import {
  type CallContext,
  type ModelState,
  type SimError,
  type SimOperation,
  type SimulatorControl,
  simError,
} from './control.js';
import { parseConverse } from './converse.js';
import { contextLengthError } from './errors-wire.js';
import { SIM_FAMILIES } from './native/index.js';
import type { ModelLimits, ParsedPrompt } from './native/types.js';
import { isSimError, malformed } from './native/validate.js';

const OPERATIONS: Readonly<Record<string, SimOperation>> = {
  invoke: 'invoke',
  'invoke-with-response-stream': 'invoke-stream',
  converse: 'converse',
  'converse-stream': 'converse-stream',
  'count-tokens': 'count-tokens',
};

/** `/model/{modelId}/{operation}`: the id is one URL-encoded label, but a raw `/` (ARN) is accepted too. */
const PATH = /^\/model\/(.+)\/(invoke|invoke-with-response-stream|converse|converse-stream|count-tokens)$/;

/**
 * Tokens Bedrock leaves for the model's own template and first output token. A prompt is
 * refused as too long when its input alone exceeds the window less this margin: Bedrock
 * checks the input (some families also check input + max output; we do not, so a body asking
 * for the model's full output budget still works with a long prompt).
 */
export const CONTEXT_MARGIN_TOKENS = 16;
/** Tokens each turn's role markers take, on top of its text. */
const TURN_OVERHEAD_TOKENS = 3;

export interface Route {
  /** The model id as called, URL-decoded: base id, profile id or ARN. */
  modelId: string;
  operation: SimOperation;
}

/** The Bedrock operation a request path names, or undefined for any other path. */
export function route(url: string): Route | undefined {
  const q = url.indexOf('?');
  const m = PATH.exec(q < 0 ? url : url.slice(0, q));
  if (!m) return undefined;
  let modelId: string;
  try {
    modelId = decodeURIComponent(m[1] ?? '');
  } catch {
    return undefined;
  }
  const operation = OPERATIONS[m[2] ?? ''];
  return operation ? { modelId, operation } : undefined;
}

/** A call that passed every check that does not depend on load: what remains is to answer it. */
export interface Call {
  ctx: CallContext;
  family: Family;
  state: ModelState;
  prompt: ParsedPrompt;
}

/** A call refused before any work, with what is known of it for the stats. */
export interface Refusal {
  error: SimError;
  ctx: CallContext;
}

/** Input tokens of a prompt: its text by the family's estimate plus each turn's role markers. */
export function promptTokens(prompt: ParsedPrompt, family: Family): number {
  let tokens = prompt.system ? estimateTokens(prompt.system, family) + TURN_OVERHEAD_TOKENS : 0;
  for (const turn of prompt.turns) tokens += estimateTokens(turn.text, family) + TURN_OVERHEAD_TOKENS;
  return tokens;
}

/** The JSON of a body, or Bedrock's complaint that it is not a JSON object. */
function parseJson(body: Buffer): { json: unknown } | SimError {
  try {
    return { json: JSON.parse(body.toString('utf8')) };
  } catch {
    return malformed('#: expected type: JSONObject, found: String');
  }
}

/** A CountTokens `input`: a base64 native body or a Converse request (`docs/bedrock-wire.md#operations`). */
function countTokensPrompt(family: Family, json: unknown, model: ModelLimits): ParsedPrompt | SimError {
  const input =
    typeof json === 'object' && json !== null && 'input' in json && typeof json.input === 'object'
      ? json.input
      : undefined;
  if (input && 'invokeModel' in input) {
    const invoke = input.invokeModel;
    const b64 = typeof invoke === 'object' && invoke !== null && 'body' in invoke ? invoke.body : undefined;
    if (typeof b64 !== 'string')
      return simError(
        'ValidationException',
        "1 validation error detected: Value at 'input.invokeModel.body' failed to satisfy constraint: Member must not be null",
      );
    const inner = parseJson(Buffer.from(b64, 'base64'));
    return 'json' in inner ? SIM_FAMILIES[family].parse(inner.json, model) : inner;
  }
  if (input && 'converse' in input) return parseConverse(input.converse, model);
  return simError(
    'ValidationException',
    "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must not be null",
  );
}

function promptOf(
  family: Family,
  operation: SimOperation,
  body: Buffer,
  model: ModelLimits,
): ParsedPrompt | SimError {
  const parsed = parseJson(body);
  if (!('json' in parsed)) return parsed;
  switch (operation) {
    case 'invoke':
    case 'invoke-stream':
      return SIM_FAMILIES[family].parse(parsed.json, model);
    case 'converse':
    case 'converse-stream':
      return parseConverse(parsed.json, model);
    case 'count-tokens':
      return countTokensPrompt(family, parsed.json, model);
  }
}

const MESSAGES = {
  notFound: 'Could not resolve the foundation model from the provided model identifier.',
  accessDenied: "You don't have access to the model with the specified model ID.",
  profileOnly: (baseId: string) =>
    `Invocation of model ID ${baseId} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
};

/**
 * Checks a Bedrock call as Bedrock does before any work: the model exists (404) and is
 * enabled (403); a profile-only model is called through a profile; the body is valid for the
 * operation and the model's family; the prompt fits the context window. CountTokens is not
 * held to the context window: it is how a caller learns a prompt is too long.
 */
export function prepareCall(
  r: Route,
  body: Buffer,
  control: SimulatorControl,
  catalog: ModelCatalog,
): Call | Refusal {
  const { baseId, geo } = parseModelId(r.modelId);
  const ctx: CallContext = {
    modelId: r.modelId,
    baseId,
    ...(geo ? { geo } : {}),
    operation: r.operation,
    inputTokens: 0,
    maxOutputTokens: 0,
    promptText: '',
  };
  const refuse = (error: SimError): Refusal => ({ error, ctx });
  const info = catalog.get(baseId);
  const family = info?.family ?? inferFamily(baseId);
  const state = control.model(baseId);
  if (!family || !state) return refuse(simError('ResourceNotFoundException', MESSAGES.notFound));
  if (!state.enabled) return refuse(simError('AccessDeniedException', MESSAGES.accessDenied));
  if (info?.profileOnly && !geo && r.operation !== 'count-tokens')
    return refuse(simError('ValidationException', MESSAGES.profileOnly(baseId)));

  const prompt = promptOf(family, r.operation, body, { baseId, maxOutputTokens: state.maxOutputTokens });
  if (isSimError(prompt)) return refuse(prompt);
  ctx.inputTokens = promptTokens(prompt, family);
  if (r.operation !== 'count-tokens' && ctx.inputTokens > state.contextWindow - CONTEXT_MARGIN_TOKENS) {
    const converse = r.operation === 'converse' || r.operation === 'converse-stream';
    return refuse(contextLengthError(family, converse, ctx.inputTokens, state.contextWindow));
  }
  ctx.maxOutputTokens = r.operation === 'count-tokens' ? 0 : prompt.maxTokens;
  ctx.promptText = prompt.system ? `${prompt.system}\n` : '';
  for (const turn of prompt.turns) ctx.promptText += `${turn.text}\n`;
  return { ctx, family, state, prompt };
}
