import { inferFamily, type ModelCatalog, parseModelId } from '../models/catalog.js';
import type { Family } from '../models/request.js';
import { estimateTokens } from '../summarize/tokens.js';
import {
  type CallContext,
  type ModelState,
  type SimError,
  type SimOperation,
  type SimulatorControl,
  simError,
} from './control.js';
import { parseConverse } from './converse-body.js';
import { SIM_FAMILIES } from './native/index.js';
import type { ParsedPrompt } from './native/types.js';
import { isSimError } from './native/validate.js';

const OPERATIONS: Readonly<Record<string, SimOperation>> = {
  invoke: 'invoke',
  'invoke-with-response-stream': 'invoke-stream',
  converse: 'converse',
  'converse-stream': 'converse-stream',
  'count-tokens': 'count-tokens',
};
const PATH =
  /^\/model\/([^/]+(?:\/[^/]+)*?)\/(invoke|invoke-with-response-stream|converse|converse-stream|count-tokens)$/;

export interface Route {
  modelId: string;
  operation: SimOperation;
}

/** `/model/{id}/{operation}`; the id is one URL-encoded segment, but raw `/` in ARNs is accepted too. */
export function route(url: string): Route | undefined {
  const path = url.split('?')[0] ?? '';
  const m = PATH.exec(path);
  if (!m) return undefined;
  let modelId: string;
  try {
    modelId = decodeURIComponent(m[1] ?? '');
  } catch {
    return undefined;
  }
  return { modelId, operation: OPERATIONS[m[2] ?? ''] ?? 'invoke' };
}

/** A call that passed every check that does not depend on load: what remains is to answer it. */
export interface Call {
  ctx: CallContext;
  family: Family;
  state: ModelState;
  prompt: ParsedPrompt;
}

/** Tokens a prompt takes: its text plus a few per turn for the role markers. */
function promptTokens(prompt: ParsedPrompt, family: Family): number {
  const text = prompt.system + prompt.turns.map((t) => t.text).join('\n');
  return estimateTokens(text, family) + 3 * prompt.turns.length + (prompt.system ? 3 : 0);
}

function contextError(family: Family, operation: SimOperation, tokens: number, window: number): SimError {
  if (family !== 'anthropic')
    return simError('ValidationException', 'Input is too long for requested model.');
  const text = `prompt is too long: ${tokens} tokens > ${window} maximum`;
  return simError(
    'ValidationException',
    operation.startsWith('converse') ? `The model returned the following errors: ${text}` : text,
  );
}

function parseJson(body: Buffer): unknown | SimError {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return simError(
      'ValidationException',
      'Malformed input request: #: expected type: JSONObject, found: String, please reformat your input and try again.',
    );
  }
}

/** The prompt of a request body, per operation: native body, Converse body, or CountTokens wrapper. */
function promptOf(
  family: Family,
  operation: SimOperation,
  json: unknown,
  limits: { maxOutputTokens: number },
): ParsedPrompt | SimError {
  if (operation === 'invoke' || operation === 'invoke-stream')
    return SIM_FAMILIES[family].parse(json, limits);
  if (operation === 'converse' || operation === 'converse-stream') return parseConverse(json, limits);
  const input = (json as { input?: { invokeModel?: { body?: unknown }; converse?: unknown } } | null)?.input;
  if (typeof input?.invokeModel?.body === 'string') {
    const inner = parseJson(Buffer.from(input.invokeModel.body, 'base64'));
    return isSimError(inner) ? inner : SIM_FAMILIES[family].parse(inner, limits);
  }
  if (input?.converse !== undefined) return parseConverse(input.converse, limits);
  return simError(
    'ValidationException',
    "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must not be null",
  );
}

/**
 * Checks a Bedrock call as Bedrock would before doing any work: model exists and is
 * enabled, profile rules, native body valid, prompt fits the context window.
 */
export function prepareCall(
  r: Route,
  body: Buffer,
  control: SimulatorControl,
  catalog: ModelCatalog,
): Call | SimError {
  const { baseId, geo } = parseModelId(r.modelId);
  const family = catalog.get(baseId)?.family ?? inferFamily(baseId);
  const state = family ? control.model(baseId) : undefined;
  if (!family || !state)
    return simError(
      'ResourceNotFoundException',
      `Model ${r.modelId} not found. Check the model identifier and try again.`,
    );
  if (!state.enabled)
    return simError(
      'AccessDeniedException',
      "You don't have access to the model with the specified model ID.",
    );
  if (
    !geo &&
    !r.modelId.startsWith('arn:') &&
    catalog.get(baseId)?.profileOnly &&
    r.operation !== 'count-tokens'
  ) {
    return simError(
      'ValidationException',
      `Invocation of model ID ${baseId} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
    );
  }
  const json = parseJson(body);
  if (isSimError(json)) return json;
  const prompt = promptOf(family, r.operation, json, state);
  if (isSimError(prompt)) return prompt;
  const inputTokens = promptTokens(prompt, family);
  if (inputTokens > state.contextWindow)
    return contextError(family, r.operation, inputTokens, state.contextWindow);
  const promptText = `${prompt.system}\n${prompt.turns.map((t) => t.text).join('\n')}`;
  const ctx: CallContext = {
    modelId: r.modelId,
    baseId,
    operation: r.operation,
    inputTokens,
    maxOutputTokens: prompt.maxTokens,
    promptText,
    ...(geo ? { geo } : {}),
  };
  return { ctx, family, state, prompt };
}
