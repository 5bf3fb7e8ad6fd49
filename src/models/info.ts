import { z } from 'zod';
import { GEOS } from './model-id.js';
import { FAMILIES, type Family, isNativeFamily } from './request.js';

/** Bedrock's lifecycle statuses of a foundation model (`FoundationModelLifecycleStatus`). */
export const LIFECYCLES = ['ACTIVE', 'LEGACY'] as const;
/** One of {@link LIFECYCLES}. */
export type Lifecycle = (typeof LIFECYCLES)[number];

/** Where a catalog entry's figures were read, and when. */
export const ModelSourceSchema = z.object({
  url: z.url().describe("the AWS page the figures were checked against (the model's card, as a rule)"),
  checked: z.iso.date().describe('the day they were checked, YYYY-MM-DD'),
});
/** Where a catalog entry's figures were read, and when. */
export type ModelSource = z.infer<typeof ModelSourceSchema>;

/**
 * What Converse takes for a model beyond messages and `inferenceConfig`; Bedrock refuses a
 * request that uses more (`docs/bedrock-wire.md#what-converse-refuses-per-model`).
 */
export const ConverseFeaturesSchema = z.object({
  system: z.boolean().default(true).describe('takes a system prompt'),
  tools: z
    .enum(['none', 'unary', 'all'])
    .default('all')
    .describe('tool use: none, Converse only (not ConverseStream), or both'),
  toolChoice: z
    .array(z.enum(['auto', 'any', 'tool']))
    .default(['auto', 'any', 'tool'])
    .describe('the `toolConfig.toolChoice` members it takes'),
});
/** Converse features of one model, defaults applied. */
export type ConverseFeatures = z.infer<typeof ConverseFeaturesSchema>;
/** A model that takes everything Converse offers (Claude 3 and later, Nova). */
export const ALL_CONVERSE_FEATURES: ConverseFeatures = ConverseFeaturesSchema.parse({});
/** Neither system prompt nor tools (Titan Text, Mistral 7B and Mixtral). */
export const PLAIN_CONVERSE: ConverseFeatures = ConverseFeaturesSchema.parse({
  system: false,
  tools: 'none',
  toolChoice: [],
});
/** Tools without streaming and only `toolChoice.auto` (Llama 3.1+, Cohere Command R, Mistral Small). */
export const UNARY_TOOLS_CONVERSE: ConverseFeatures = ConverseFeaturesSchema.parse({
  tools: 'unary',
  toolChoice: ['auto'],
});

/**
 * What we know of one model: limits, prices, default quotas and a latency profile
 * (used by the simulator and for timeouts). Prices are USD per 1,000 tokens, on-demand.
 */
export const ModelInfoSchema = z
  .object({
    id: z.string().min(1).describe('base model id, e.g. anthropic.claude-3-haiku-20240307-v1:0'),
    family: z.enum(FAMILIES),
    name: z.string().min(1),
    aliases: z.array(z.string()).default([]),
    contextWindow: z.number().int().positive().describe('input + output tokens the model accepts'),
    maxOutputTokens: z.number().int().positive(),
    priceInPer1k: z.number().nonnegative(),
    priceOutPer1k: z.number().nonnegative(),
    batchPriceInPer1k: z
      .number()
      .nonnegative()
      .optional()
      .describe('batch inference (model invocation jobs), per 1,000 input tokens; default half of on-demand'),
    batchPriceOutPer1k: z
      .number()
      .nonnegative()
      .optional()
      .describe('batch inference, per 1,000 output tokens; default half of on-demand'),
    batchInference: z
      .boolean()
      .default(true)
      .describe('takes model invocation jobs (batch inference, the offline lane)'),
    rpm: z
      .number()
      .int()
      .positive()
      .describe('starting on-demand requests per minute for the limiter (quotas vary by account)'),
    tpm: z
      .number()
      .int()
      .positive()
      .describe('starting on-demand tokens per minute for the limiter (quotas vary by account)'),
    profileOnly: z
      .boolean()
      .default(false)
      .describe('on-demand calls need a cross-region profile id (us., eu., global., ...)'),
    profiles: z
      .array(z.enum(GEOS))
      .optional()
      .describe(
        'geographies of the cross-region profiles that serve the model (us, eu, ...); absent: not known, any',
      ),
    nativeBody: z
      .enum(['prompt', 'chat', 'both'])
      .optional()
      .describe(
        'Mistral: the InvokeModel bodies the model takes, `prompt` (the default) and/or `chat` (`messages`)',
      ),
    countTokens: z
      .boolean()
      .default(false)
      .describe('Bedrock counts tokens for it (CountTokens on its base id)'),
    converse: ConverseFeaturesSchema.prefault({}).describe('what Converse takes for it'),
    firstTokenMs: z.number().nonnegative().default(400).describe('typical time to first token'),
    tokensPerSecond: z.number().positive().default(80).describe('typical output speed'),
    lifecycle: z
      .enum(LIFECYCLES)
      .default('ACTIVE')
      .describe("Bedrock's lifecycle status: LEGACY models still answer until their EOL date"),
    eolDate: z.iso
      .date()
      .optional()
      .describe('LEGACY: the day AWS retires the model (YYYY-MM-DD); calls fail after it'),
    converseOnly: z
      .boolean()
      .optional()
      .describe(
        'served through Converse only, whatever the job asks: we build no native body for it (default: true for a family without a native adapter)',
      ),
    source: ModelSourceSchema.optional().describe('where the figures were checked, and when'),
  })
  .superRefine((info, ctx) => {
    if (info.converseOnly === false && !isNativeFamily(info.family))
      ctx.addIssue({
        code: 'custom',
        path: ['converseOnly'],
        message: `family ${info.family} has no native format here; its models are served through Converse`,
      });
  });
/** What we know of one model, defaults applied. */
export type ModelInfo = z.infer<typeof ModelInfoSchema>;
/** A model as config `customModels` may write it: defaulted fields may be left out. */
export type ModelInfoInput = z.input<typeof ModelInfoSchema>;

/** Defaults for a family we serve through Converse only. */
function converseOnlyDefaults(
  family: Family,
  contextWindow: number,
  maxOutputTokens: number,
  priceInPer1k: number,
  priceOutPer1k: number,
): Omit<ModelInfo, 'id' | 'name' | 'aliases'> {
  return {
    family,
    contextWindow,
    maxOutputTokens,
    priceInPer1k,
    priceOutPer1k,
    rpm: 100,
    tpm: 100_000,
    profileOnly: false,
    // Not known for a model we do not list: Bedrock refuses the invocation job if not.
    batchInference: true,
    countTokens: false,
    // What Converse refuses for these models is not written down here: the simulator takes it all.
    converse: ALL_CONVERSE_FEATURES,
    converseOnly: true,
    firstTokenMs: 500,
    tokensPerSecond: 80,
    lifecycle: 'ACTIVE',
  };
}

/** Limits used for a model id we infer the family of but do not list. */
export const FAMILY_DEFAULTS: Readonly<Record<Family, Omit<ModelInfo, 'id' | 'name' | 'aliases'>>> = {
  anthropic: {
    family: 'anthropic',
    contextWindow: 200_000,
    maxOutputTokens: 4_096,
    priceInPer1k: 0.003,
    priceOutPer1k: 0.015,
    rpm: 200,
    tpm: 400_000,
    profileOnly: false,
    batchInference: true,
    countTokens: false,
    converse: ALL_CONVERSE_FEATURES,
    firstTokenMs: 600,
    tokensPerSecond: 70,
    lifecycle: 'ACTIVE',
  },
  titan: {
    family: 'titan',
    contextWindow: 8_192,
    maxOutputTokens: 3_072,
    priceInPer1k: 0.0005,
    priceOutPer1k: 0.0015,
    rpm: 100,
    tpm: 100_000,
    profileOnly: false,
    batchInference: true,
    countTokens: false,
    converse: PLAIN_CONVERSE,
    firstTokenMs: 400,
    tokensPerSecond: 100,
    lifecycle: 'ACTIVE',
  },
  nova: {
    family: 'nova',
    contextWindow: 128_000,
    maxOutputTokens: 10_000,
    priceInPer1k: 0.0008,
    priceOutPer1k: 0.0032,
    rpm: 250,
    tpm: 1_000_000,
    profileOnly: false,
    batchInference: true,
    countTokens: false,
    converse: ALL_CONVERSE_FEATURES,
    firstTokenMs: 400,
    tokensPerSecond: 100,
    lifecycle: 'ACTIVE',
  },
  llama: {
    family: 'llama',
    contextWindow: 128_000,
    maxOutputTokens: 2_048,
    priceInPer1k: 0.00072,
    priceOutPer1k: 0.00072,
    rpm: 400,
    tpm: 300_000,
    profileOnly: false,
    batchInference: true,
    countTokens: false,
    converse: UNARY_TOOLS_CONVERSE,
    firstTokenMs: 450,
    tokensPerSecond: 60,
    lifecycle: 'ACTIVE',
  },
  mistral: {
    family: 'mistral',
    contextWindow: 32_000,
    maxOutputTokens: 4_096,
    priceInPer1k: 0.002,
    priceOutPer1k: 0.006,
    rpm: 400,
    tpm: 300_000,
    profileOnly: false,
    batchInference: true,
    // Every Mistral model Bedrock added after Mistral Large (24.02) takes only the chat body.
    nativeBody: 'chat',
    countTokens: false,
    converse: UNARY_TOOLS_CONVERSE,
    firstTokenMs: 400,
    tokensPerSecond: 80,
    lifecycle: 'ACTIVE',
  },
  cohere: {
    family: 'cohere',
    contextWindow: 128_000,
    maxOutputTokens: 4_000,
    priceInPer1k: 0.003,
    priceOutPer1k: 0.015,
    rpm: 400,
    tpm: 300_000,
    profileOnly: false,
    batchInference: true,
    countTokens: false,
    converse: UNARY_TOOLS_CONVERSE,
    firstTokenMs: 500,
    tokensPerSecond: 60,
    lifecycle: 'ACTIVE',
  },
  // The Converse-only families: a listed model of each gives the prices; limits are the
  // smallest listed ones, so an unlisted model is not sent more than it may take.
  openai: converseOnlyDefaults('openai', 128_000, 16_000, 0.00015, 0.0006), // gpt-oss-120b
  deepseek: converseOnlyDefaults('deepseek', 128_000, 8_192, 0.00062, 0.00185), // DeepSeek V3.2
  qwen: converseOnlyDefaults('qwen', 32_000, 8_192, 0.00015, 0.0006), // Qwen3 32B
  writer: converseOnlyDefaults('writer', 122_880, 8_192, 0.0006, 0.006), // Palmyra X5
  google: converseOnlyDefaults('google', 128_000, 8_192, 0.00012, 0.0002), // Gemma 3 27B
  minimax: converseOnlyDefaults('minimax', 128_000, 8_192, 0.0003, 0.0012), // MiniMax M2
  moonshot: converseOnlyDefaults('moonshot', 128_000, 8_192, 0.0006, 0.003), // Kimi K2.5
  nvidia: converseOnlyDefaults('nvidia', 128_000, 4_096, 0.00006, 0.00023), // Nemotron Nano 9B v2
  zai: converseOnlyDefaults('zai', 128_000, 8_192, 0.0006, 0.0022), // GLM 4.7
};

/**
 * True when the model is served through Converse whatever the job asks: its family has no
 * native adapter, or its entry says so (a model whose native body we do not build).
 */
export function isConverseOnly(info: Pick<ModelInfo, 'family' | 'converseOnly'>): boolean {
  return info.converseOnly ?? !isNativeFamily(info.family);
}

/** Batch inference's price as a share of on-demand, for models whose entry names no batch price. */
export const BATCH_PRICE_SHARE = 0.5;

/** Cost in USD of one record's usage at a model's batch-inference prices. */
export function batchCostUsd(
  info: Pick<ModelInfo, 'priceInPer1k' | 'priceOutPer1k' | 'batchPriceInPer1k' | 'batchPriceOutPer1k'>,
  usage: { inputTokens: number; outputTokens: number },
): number {
  return costUsd(
    {
      priceInPer1k: info.batchPriceInPer1k ?? info.priceInPer1k * BATCH_PRICE_SHARE,
      priceOutPer1k: info.batchPriceOutPer1k ?? info.priceOutPer1k * BATCH_PRICE_SHARE,
    },
    usage,
  );
}

/** Cost in USD of one call's usage at a model's on-demand prices. */
export function costUsd(
  info: Pick<ModelInfo, 'priceInPer1k' | 'priceOutPer1k'>,
  usage: { inputTokens: number; outputTokens: number },
): number {
  return (usage.inputTokens * info.priceInPer1k + usage.outputTokens * info.priceOutPer1k) / 1000;
}
