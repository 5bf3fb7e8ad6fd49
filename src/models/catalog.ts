import { z } from 'zod';
import { FAMILIES, type Family } from './request.js';

/**
 * What we know of one model: limits, prices, default quotas and a latency profile
 * (used by the simulator and for timeouts). Prices are USD per 1,000 tokens, on-demand.
 */
export const ModelInfoSchema = z.object({
  id: z.string().min(1).describe('base model id, e.g. anthropic.claude-3-haiku-20240307-v1:0'),
  family: z.enum(FAMILIES),
  name: z.string().min(1),
  aliases: z.array(z.string()).default([]),
  contextWindow: z.number().int().positive().describe('input + output tokens the model accepts'),
  maxOutputTokens: z.number().int().positive(),
  priceInPer1k: z.number().nonnegative(),
  priceOutPer1k: z.number().nonnegative(),
  rpm: z.number().int().positive().describe('default on-demand requests per minute'),
  tpm: z.number().int().positive().describe('default on-demand tokens per minute'),
  profileOnly: z
    .boolean()
    .default(false)
    .describe('on-demand calls need a us./eu./apac. inference profile id'),
  firstTokenMs: z.number().nonnegative().default(400).describe('typical time to first token'),
  tokensPerSecond: z.number().positive().default(80).describe('typical output speed'),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;
export type ModelInfoInput = z.input<typeof ModelInfoSchema>;

const m = (info: ModelInfoInput): ModelInfo => ModelInfoSchema.parse(info);

/** Facts from the wire reference §6; quotas are AWS defaults and vary by account. */
export const BUILTIN_MODELS: readonly ModelInfo[] = [
  m({
    id: 'anthropic.claude-3-haiku-20240307-v1:0',
    family: 'anthropic',
    name: 'Claude 3 Haiku',
    aliases: ['claude-3-haiku'],
    contextWindow: 200_000,
    maxOutputTokens: 4_096,
    priceInPer1k: 0.00025,
    priceOutPer1k: 0.00125,
    rpm: 1_000,
    tpm: 2_000_000,
    firstTokenMs: 350,
    tokensPerSecond: 120,
  }),
  m({
    id: 'anthropic.claude-3-5-haiku-20241022-v1:0',
    family: 'anthropic',
    name: 'Claude 3.5 Haiku',
    aliases: ['claude-3-5-haiku'],
    contextWindow: 200_000,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.0008,
    priceOutPer1k: 0.004,
    rpm: 1_000,
    tpm: 2_000_000,
    firstTokenMs: 400,
    tokensPerSecond: 100,
  }),
  m({
    id: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
    family: 'anthropic',
    name: 'Claude 3.5 Sonnet v2',
    aliases: ['claude-3-5-sonnet'],
    contextWindow: 200_000,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.003,
    priceOutPer1k: 0.015,
    rpm: 250,
    tpm: 400_000,
    profileOnly: true,
    firstTokenMs: 700,
    tokensPerSecond: 60,
  }),
  m({
    id: 'anthropic.claude-3-7-sonnet-20250219-v1:0',
    family: 'anthropic',
    name: 'Claude 3.7 Sonnet',
    aliases: ['claude-3-7-sonnet'],
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    priceInPer1k: 0.003,
    priceOutPer1k: 0.015,
    rpm: 250,
    tpm: 1_000_000,
    profileOnly: true,
    firstTokenMs: 800,
    tokensPerSecond: 60,
  }),
  m({
    id: 'anthropic.claude-sonnet-4-20250514-v1:0',
    family: 'anthropic',
    name: 'Claude Sonnet 4',
    aliases: ['claude-sonnet-4'],
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    priceInPer1k: 0.003,
    priceOutPer1k: 0.015,
    rpm: 200,
    tpm: 1_000_000,
    profileOnly: true,
    firstTokenMs: 900,
    tokensPerSecond: 55,
  }),
  m({
    id: 'amazon.titan-text-lite-v1',
    family: 'titan',
    name: 'Titan Text Lite',
    aliases: ['titan-lite'],
    contextWindow: 4_096,
    maxOutputTokens: 4_096,
    priceInPer1k: 0.00015,
    priceOutPer1k: 0.0002,
    rpm: 800,
    tpm: 300_000,
    firstTokenMs: 250,
    tokensPerSecond: 150,
  }),
  m({
    id: 'amazon.titan-text-express-v1',
    family: 'titan',
    name: 'Titan Text Express',
    aliases: ['titan-express'],
    contextWindow: 8_192,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.0002,
    priceOutPer1k: 0.0006,
    rpm: 400,
    tpm: 300_000,
    firstTokenMs: 300,
    tokensPerSecond: 120,
  }),
  m({
    id: 'amazon.titan-text-premier-v1:0',
    family: 'titan',
    name: 'Titan Text Premier',
    aliases: ['titan-premier'],
    contextWindow: 32_000,
    maxOutputTokens: 3_072,
    priceInPer1k: 0.0005,
    priceOutPer1k: 0.0015,
    rpm: 100,
    tpm: 100_000,
    firstTokenMs: 500,
    tokensPerSecond: 80,
  }),
  m({
    id: 'amazon.nova-micro-v1:0',
    family: 'nova',
    name: 'Nova Micro',
    aliases: ['nova-micro'],
    contextWindow: 128_000,
    maxOutputTokens: 5_000,
    priceInPer1k: 0.000035,
    priceOutPer1k: 0.00014,
    rpm: 2_000,
    tpm: 4_000_000,
    firstTokenMs: 200,
    tokensPerSecond: 200,
  }),
  m({
    id: 'amazon.nova-lite-v1:0',
    family: 'nova',
    name: 'Nova Lite',
    aliases: ['nova-lite'],
    contextWindow: 300_000,
    maxOutputTokens: 5_000,
    priceInPer1k: 0.00006,
    priceOutPer1k: 0.00024,
    rpm: 2_000,
    tpm: 4_000_000,
    firstTokenMs: 250,
    tokensPerSecond: 160,
  }),
  m({
    id: 'amazon.nova-pro-v1:0',
    family: 'nova',
    name: 'Nova Pro',
    aliases: ['nova-pro'],
    contextWindow: 300_000,
    maxOutputTokens: 5_000,
    priceInPer1k: 0.0008,
    priceOutPer1k: 0.0032,
    rpm: 250,
    tpm: 1_000_000,
    firstTokenMs: 450,
    tokensPerSecond: 90,
  }),
  m({
    id: 'meta.llama3-8b-instruct-v1:0',
    family: 'llama',
    name: 'Llama 3 8B Instruct',
    aliases: ['llama3-8b'],
    contextWindow: 8_192,
    maxOutputTokens: 2_048,
    priceInPer1k: 0.0003,
    priceOutPer1k: 0.0006,
    rpm: 800,
    tpm: 300_000,
    firstTokenMs: 250,
    tokensPerSecond: 140,
  }),
  m({
    id: 'meta.llama3-70b-instruct-v1:0',
    family: 'llama',
    name: 'Llama 3 70B Instruct',
    aliases: ['llama3-70b'],
    contextWindow: 8_192,
    maxOutputTokens: 2_048,
    priceInPer1k: 0.00265,
    priceOutPer1k: 0.0035,
    rpm: 400,
    tpm: 300_000,
    firstTokenMs: 450,
    tokensPerSecond: 60,
  }),
  m({
    id: 'meta.llama3-1-8b-instruct-v1:0',
    family: 'llama',
    name: 'Llama 3.1 8B Instruct',
    aliases: ['llama3-1-8b'],
    contextWindow: 128_000,
    maxOutputTokens: 2_048,
    priceInPer1k: 0.00022,
    priceOutPer1k: 0.00022,
    rpm: 800,
    tpm: 300_000,
    firstTokenMs: 250,
    tokensPerSecond: 140,
  }),
  m({
    id: 'meta.llama3-1-70b-instruct-v1:0',
    family: 'llama',
    name: 'Llama 3.1 70B Instruct',
    aliases: ['llama3-1-70b'],
    contextWindow: 128_000,
    maxOutputTokens: 2_048,
    priceInPer1k: 0.00072,
    priceOutPer1k: 0.00072,
    rpm: 400,
    tpm: 300_000,
    firstTokenMs: 450,
    tokensPerSecond: 60,
  }),
  m({
    id: 'meta.llama3-3-70b-instruct-v1:0',
    family: 'llama',
    name: 'Llama 3.3 70B Instruct',
    aliases: ['llama3-3-70b'],
    contextWindow: 128_000,
    maxOutputTokens: 2_048,
    priceInPer1k: 0.00072,
    priceOutPer1k: 0.00072,
    rpm: 400,
    tpm: 300_000,
    profileOnly: true,
    firstTokenMs: 450,
    tokensPerSecond: 60,
  }),
  m({
    id: 'mistral.mistral-7b-instruct-v0:2',
    family: 'mistral',
    name: 'Mistral 7B Instruct',
    aliases: ['mistral-7b'],
    contextWindow: 32_000,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.00015,
    priceOutPer1k: 0.0002,
    rpm: 800,
    tpm: 300_000,
    firstTokenMs: 200,
    tokensPerSecond: 150,
  }),
  m({
    id: 'mistral.mixtral-8x7b-instruct-v0:1',
    family: 'mistral',
    name: 'Mixtral 8x7B Instruct',
    aliases: ['mixtral-8x7b'],
    contextWindow: 32_000,
    maxOutputTokens: 4_096,
    priceInPer1k: 0.00045,
    priceOutPer1k: 0.0007,
    rpm: 400,
    tpm: 300_000,
    firstTokenMs: 300,
    tokensPerSecond: 100,
  }),
  m({
    id: 'mistral.mistral-large-2402-v1:0',
    family: 'mistral',
    name: 'Mistral Large (24.02)',
    aliases: ['mistral-large'],
    contextWindow: 32_000,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.004,
    priceOutPer1k: 0.012,
    rpm: 400,
    tpm: 300_000,
    firstTokenMs: 600,
    tokensPerSecond: 50,
  }),
  m({
    id: 'cohere.command-r-v1:0',
    family: 'cohere',
    name: 'Command R',
    aliases: ['command-r'],
    contextWindow: 128_000,
    maxOutputTokens: 4_000,
    priceInPer1k: 0.0005,
    priceOutPer1k: 0.0015,
    rpm: 400,
    tpm: 300_000,
    firstTokenMs: 350,
    tokensPerSecond: 90,
  }),
  m({
    id: 'cohere.command-r-plus-v1:0',
    family: 'cohere',
    name: 'Command R+',
    aliases: ['command-r-plus'],
    contextWindow: 128_000,
    maxOutputTokens: 4_000,
    priceInPer1k: 0.003,
    priceOutPer1k: 0.015,
    rpm: 400,
    tpm: 300_000,
    firstTokenMs: 600,
    tokensPerSecond: 50,
  }),
];

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
    firstTokenMs: 600,
    tokensPerSecond: 70,
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
    firstTokenMs: 400,
    tokensPerSecond: 100,
  },
  nova: {
    family: 'nova',
    contextWindow: 128_000,
    maxOutputTokens: 5_000,
    priceInPer1k: 0.0008,
    priceOutPer1k: 0.0032,
    rpm: 250,
    tpm: 1_000_000,
    profileOnly: false,
    firstTokenMs: 400,
    tokensPerSecond: 100,
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
    firstTokenMs: 450,
    tokensPerSecond: 60,
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
    firstTokenMs: 400,
    tokensPerSecond: 80,
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
    firstTokenMs: 500,
    tokensPerSecond: 60,
  },
};

/** Geography prefixes of system-defined cross-region inference profiles. */
const GEO_PREFIX = /^(us|eu|apac|global|us-gov|jp|au|ca)\./;
/** Only these ARN resource types name a model whose family the id itself reveals. */
const ARN = /^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:(?:foundation-model|inference-profile)\/(.+)$/;

/** Provider prefixes that reveal a model family, checked after ARN and geo prefixes are peeled off. */
export const FAMILY_PREFIXES: readonly (readonly [string, Family])[] = [
  ['anthropic.', 'anthropic'],
  ['amazon.titan-text', 'titan'],
  ['amazon.nova', 'nova'],
  ['meta.llama', 'llama'],
  ['mistral.', 'mistral'],
  ['cohere.command', 'cohere'],
];

/** A model id as a caller wrote it, resolved to what we know of it. */
export interface ResolvedModel {
  /** Exactly what is sent to Bedrock in the path. */
  requestId: string;
  /** The foundation model id behind profiles and ARNs. */
  baseId: string;
  /** `us`, `eu`, ... for a cross-region profile; absent for an on-demand base id. */
  geo?: string;
  family: Family;
  info: ModelInfo;
  /** False when the id is not in the catalog and its limits are the family defaults. */
  known: boolean;
}

/** Peels ARN and geo prefix off an id: `arn:…:inference-profile/us.x` → `{ baseId: 'x', geo: 'us' }`. */
export function parseModelId(id: string): { baseId: string; geo?: string } {
  const arn = ARN.exec(id);
  const inner = arn?.[1] ?? id;
  const geo = GEO_PREFIX.exec(inner);
  return geo ? { baseId: inner.slice(geo[0].length), geo: geo[1] } : { baseId: inner };
}

/** The family an id belongs to by its provider prefix, or undefined. */
export function inferFamily(id: string): Family | undefined {
  const { baseId } = parseModelId(id);
  return FAMILY_PREFIXES.find(([prefix]) => baseId.startsWith(prefix))?.[1];
}

/**
 * The models we know: the built-in list plus those a config adds or overrides (by id),
 * looked up by id, alias, profile id or ARN.
 */
export class ModelCatalog {
  private readonly byId = new Map<string, ModelInfo>();
  private readonly byAlias = new Map<string, string>();

  constructor(extra: readonly ModelInfoInput[] = [], builtin: readonly ModelInfo[] = BUILTIN_MODELS) {
    for (const info of builtin) this.add(info);
    for (const info of extra) this.add(ModelInfoSchema.parse(info));
  }

  private add(info: ModelInfo): void {
    this.byId.set(info.id, info);
    for (const alias of info.aliases) this.byAlias.set(alias, info.id);
  }

  /** Every model, built-in first. */
  list(): ModelInfo[] {
    return [...this.byId.values()];
  }

  /** The entry for a base id or alias, without family inference. */
  get(idOrAlias: string): ModelInfo | undefined {
    return this.byId.get(this.byAlias.get(idOrAlias) ?? idOrAlias);
  }

  /**
   * Resolves any id form. Unknown ids of a known family get that family's default limits.
   * @returns undefined when the family cannot be inferred (the caller refuses the id).
   */
  resolve(id: string): ResolvedModel | undefined {
    const aliased = this.byAlias.get(id);
    const requestId = aliased ?? id;
    const { baseId, geo } = parseModelId(requestId);
    const listed = this.byId.get(baseId);
    if (listed) {
      // Profile-only models are called through the US profile when given by alias.
      const sendId = aliased && listed.profileOnly ? `us.${listed.id}` : requestId;
      const sendGeo = aliased && listed.profileOnly ? 'us' : geo;
      return {
        requestId: sendId,
        baseId,
        ...(sendGeo ? { geo: sendGeo } : {}),
        family: listed.family,
        info: listed,
        known: true,
      };
    }
    const family = inferFamily(requestId);
    if (!family) return undefined;
    const info: ModelInfo = { ...FAMILY_DEFAULTS[family], id: baseId, name: baseId, aliases: [] };
    return { requestId, baseId, ...(geo ? { geo } : {}), family, info, known: false };
  }
}

/** Cost in USD of one call's usage at a model's on-demand prices. */
export function costUsd(
  info: Pick<ModelInfo, 'priceInPer1k' | 'priceOutPer1k'>,
  usage: { inputTokens: number; outputTokens: number },
): number {
  return (usage.inputTokens * info.priceInPer1k + usage.outputTokens * info.priceOutPer1k) / 1000;
}
