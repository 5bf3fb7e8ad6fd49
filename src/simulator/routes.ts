import type { ModelCatalog } from '../models/catalog.js';
import type { ModelInfo } from '../models/info.js';
import { parseModelId } from '../models/model-id.js';
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
import { type ConverseModel, parseConverse } from './converse.js';
import { contextLengthError } from './errors-wire.js';
import { simFamilyOf } from './native/index.js';
import type { ParsedPrompt, SimFamily } from './native/types.js';
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
  /** The family's native format; absent for a model the simulator serves through Converse only. */
  format?: SimFamily;
  state: ModelState;
  prompt: ParsedPrompt;
}

/** A call refused before any work, with what is known of it for the stats. */
export interface Refusal {
  error: SimError;
  ctx: CallContext;
  /**
   * True when the refusal is the model provider's on InvokeModelWithResponseStream: Bedrock
   * answers 200 and sends it as the stream's only event (`docs/bedrock-wire.md#errors-inside-a-stream`).
   */
  inStream: boolean;
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

/**
 * A native InvokeModel body as a prompt. The families we serve through Converse only have no
 * native reading here, so the simulator refuses InvokeModel for them in the words Bedrock uses
 * for an operation a model does not take (Bedrock itself takes native bodies for some of them).
 */
function nativePrompt(json: unknown, model: ConverseModel): ParsedPrompt | SimError {
  const format = simFamilyOf(model.family);
  return format ? format.parse(json, model) : simError('ValidationException', MESSAGES.operation);
}

/** A CountTokens `input`: a base64 native body or a Converse request (`docs/bedrock-wire.md#operations`). */
function countTokensPrompt(json: unknown, model: ConverseModel): ParsedPrompt | SimError {
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
    return 'json' in inner ? nativePrompt(inner.json, model) : inner;
  }
  if (input && 'converse' in input) return parseConverse(input.converse, model, false);
  return simError(
    'ValidationException',
    "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must not be null",
  );
}

function promptOf(
  operation: SimOperation,
  parsed: { json: unknown } | SimError,
  model: ConverseModel,
): ParsedPrompt | SimError {
  if (!('json' in parsed)) return parsed;
  switch (operation) {
    case 'invoke':
    case 'invoke-stream':
      return nativePrompt(parsed.json, model);
    case 'converse':
    case 'converse-stream':
      return parseConverse(parsed.json, model, operation === 'converse-stream');
    case 'count-tokens':
      return countTokensPrompt(parsed.json, model);
  }
}

/** Bedrock's words for a model it will not call (`docs/bedrock-wire.md#model-ids-in-the-path`). */
export const MESSAGES = {
  invalidId: 'The provided model identifier is invalid.',
  notAvailable: 'Could not resolve the foundation model from the provided model identifier.',
  accessDenied: "You don't have access to the model with the specified model ID.",
  profileOnly: (baseId: string) =>
    `Invocation of model ID ${baseId} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
  noCounting: "The provided model doesn't support counting tokens.",
  operation:
    "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
};

/**
 * The model an id names on the wire, or undefined when Bedrock would not know the id: our
 * aliases are not Bedrock ids, and a geography prefix must be one of the model's profiles.
 * Ids outside the catalog exist only when the control knows them (a profile names them).
 */
export function modelAt(
  baseId: string,
  geo: string | undefined,
  catalog: ModelCatalog,
): ModelInfo | undefined {
  const listed = catalog.get(baseId);
  if (listed && listed.id !== baseId) return undefined;
  const info = listed ?? catalog.resolve(baseId)?.info;
  if (!info || (geo && info.profiles && !(info.profiles as readonly string[]).includes(geo)))
    return undefined;
  return info;
}

/**
 * Checks a Bedrock call as Bedrock does before any work: the id names a model (400 otherwise)
 * that is offered (404) and enabled (403); a profile-only model is called through a profile;
 * CountTokens is asked of a model that counts, by its base id; the body is valid for the
 * operation and the model; the prompt fits the context window. CountTokens is not held to the
 * context window: it is how a caller learns a prompt is too long.
 */
export function prepareCall(
  r: Route,
  body: Buffer,
  control: SimulatorControl,
  catalog: ModelCatalog,
): Call | Refusal {
  return prepareParsed(r, parseJson(body), control, catalog);
}

/**
 * {@link prepareCall} for a body already parsed: a record of a model invocation job, whose
 * `modelInput` is the body (`src/simulator/batch-records.ts`).
 */
export function prepareBody(
  r: Route,
  json: unknown,
  control: SimulatorControl,
  catalog: ModelCatalog,
): Call | Refusal {
  return prepareParsed(r, { json }, control, catalog);
}

function prepareParsed(
  r: Route,
  parsed: { json: unknown } | SimError,
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
  const refuse = (error: SimError): Refusal => ({
    error,
    ctx,
    inStream: r.operation === 'invoke-stream' && error.fromProvider === true,
  });
  const info = modelAt(baseId, geo, catalog);
  const state = info && control.model(baseId);
  if (!info || !state) return refuse(simError('ValidationException', MESSAGES.invalidId));
  if (!state.available) return refuse(simError('ResourceNotFoundException', MESSAGES.notAvailable));
  if (!state.enabled) return refuse(simError('AccessDeniedException', MESSAGES.accessDenied));
  if (r.operation === 'count-tokens') {
    // By the foundation model only: a cross-region profile (or its ARN) does not count.
    if (!info.countTokens || geo) return refuse(simError('ValidationException', MESSAGES.noCounting));
  } else if (info.profileOnly && !geo)
    return refuse(simError('ValidationException', MESSAGES.profileOnly(baseId)));

  const family = info.family;
  const model: ConverseModel = {
    baseId,
    maxOutputTokens: state.maxOutputTokens,
    ...(info.nativeBody ? { nativeBody: info.nativeBody } : {}),
    family,
    features: info.converse,
  };
  const prompt = promptOf(r.operation, parsed, model);
  if (isSimError(prompt)) return refuse(prompt);
  ctx.inputTokens = promptTokens(prompt, family);
  if (r.operation !== 'count-tokens' && ctx.inputTokens > state.contextWindow - CONTEXT_MARGIN_TOKENS) {
    return refuse(
      contextLengthError({
        family,
        ...(info.nativeBody ? { nativeBody: info.nativeBody } : {}),
        converse: r.operation === 'converse' || r.operation === 'converse-stream',
        inputTokens: ctx.inputTokens,
        contextWindow: state.contextWindow,
      }),
    );
  }
  ctx.maxOutputTokens = r.operation === 'count-tokens' ? 0 : prompt.maxTokens;
  ctx.promptText = prompt.system ? `${prompt.system}\n` : '';
  for (const turn of prompt.turns) ctx.promptText += `${turn.text}\n`;
  const format = simFamilyOf(family);
  return { ctx, family, ...(format ? { format } : {}), state, prompt };
}
