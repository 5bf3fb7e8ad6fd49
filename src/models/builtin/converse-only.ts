import { type ModelInfo, UNARY_TOOLS_CONVERSE } from '../info.js';
import { type BuiltinInput, checked, entry, REGIONS_PAGE } from './entry.js';

/*
 * Models of families we serve through Converse only (`CONVERSE_ONLY_FAMILIES`): we build no
 * native body for them, so every call goes through Converse. Notes as in `anthropic.ts`.
 * For all of them the regions page gave lifecycle, in-region support in us-east-1 and profile
 * geographies; windows, output limits and prices are secondary (third-party catalogs that copy
 * AWS's cards and price list) unless noted, and what Converse refuses for them is not known:
 * the simulator takes everything (`ALL_CONVERSE_FEATURES`, the default).
 *
 * Not listed although on the regions page: gpt-oss-safeguard, Qwen3 Next and VL, Gemma (the
 * page's "Gemma 3 27B PT" does not match an id we could confirm), MiniMax M2.1/M2.5, Kimi K2
 * Thinking, the other Nemotron models, GLM 4.7 Flash and 5. Their ids resolve by family.
 */
const co = (info: Omit<BuiltinInput, 'converseOnly' | 'source'>): ModelInfo =>
  entry({ ...info, converseOnly: true, source: checked(REGIONS_PAGE) });

export const CONVERSE_ONLY_MODELS: readonly ModelInfo[] = [
  // us-east-1 in-region; Geo only in GovCloud. 128K / 16K from the card, as a third-party
  // catalog cites it. price $0.07 / $0.30.
  co({
    id: 'openai.gpt-oss-20b-1:0',
    family: 'openai',
    name: 'gpt-oss-20b',
    aliases: ['gpt-oss-20b'],
    contextWindow: 128_000,
    maxOutputTokens: 16_000,
    priceInPer1k: 0.00007,
    priceOutPer1k: 0.0003,
    rpm: 400,
    tpm: 500_000,
    profiles: ['us-gov'],
    firstTokenMs: 300,
    tokensPerSecond: 150,
  }),
  // As gpt-oss-20b. price $0.15 / $0.60.
  co({
    id: 'openai.gpt-oss-120b-1:0',
    family: 'openai',
    name: 'gpt-oss-120b',
    aliases: ['gpt-oss-120b'],
    contextWindow: 128_000,
    maxOutputTokens: 16_000,
    priceInPer1k: 0.00015,
    priceOutPer1k: 0.0006,
    rpm: 400,
    tpm: 500_000,
    profiles: ['us-gov'],
    firstTokenMs: 400,
    tokensPerSecond: 120,
  }),
  // US Geo only. 128K / 32K, $1.35 / $5.40. Converse: tools without streaming (a probe).
  co({
    id: 'deepseek.r1-v1:0',
    family: 'deepseek',
    name: 'DeepSeek-R1',
    aliases: ['deepseek-r1'],
    contextWindow: 128_000,
    maxOutputTokens: 32_768,
    priceInPer1k: 0.00135,
    priceOutPer1k: 0.0054,
    rpm: 100,
    tpm: 200_000,
    profileOnly: true,
    profiles: ['us'],
    converse: UNARY_TOOLS_CONVERSE,
    firstTokenMs: 1_000,
    tokensPerSecond: 50,
  }),
  // In-region only, and not in us-east-1 (us-east-2, us-west-2, ...). 163,840 / 81,920,
  // $0.58 / $1.68.
  co({
    id: 'deepseek.v3-v1:0',
    family: 'deepseek',
    name: 'DeepSeek-V3.1',
    aliases: ['deepseek-v3-1'],
    contextWindow: 163_840,
    maxOutputTokens: 81_920,
    priceInPer1k: 0.00058,
    priceOutPer1k: 0.00168,
    rpm: 200,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 600,
    tokensPerSecond: 60,
  }),
  // us-east-1 in-region; no profile. 163,840 / 81,920, $0.62 / $1.85.
  co({
    id: 'deepseek.v3.2',
    family: 'deepseek',
    name: 'DeepSeek V3.2',
    aliases: ['deepseek-v3-2'],
    contextWindow: 163_840,
    maxOutputTokens: 81_920,
    priceInPer1k: 0.00062,
    priceOutPer1k: 0.00185,
    rpm: 200,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 600,
    tokensPerSecond: 60,
  }),
  // us-east-1 in-region; no profile. 32K / 8K and $0.15 / $0.60 from a catalog citing AWS; a
  // second one gives 16,384 for both limits (not taken).
  co({
    id: 'qwen.qwen3-32b-v1:0',
    family: 'qwen',
    name: 'Qwen3 32B',
    aliases: ['qwen3-32b'],
    contextWindow: 32_000,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.00015,
    priceOutPer1k: 0.0006,
    rpm: 400,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 350,
    tokensPerSecond: 100,
  }),
  // In-region only, not in us-east-1. 256K / 8K and $0.22 / $0.88 from a catalog citing AWS;
  // a second one gives 262,144 / 131,072 (not taken).
  co({
    id: 'qwen.qwen3-235b-a22b-2507-v1:0',
    family: 'qwen',
    name: 'Qwen3 235B A22B 2507',
    aliases: ['qwen3-235b'],
    contextWindow: 256_000,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.00022,
    priceOutPer1k: 0.00088,
    rpm: 200,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 500,
    tokensPerSecond: 70,
  }),
  // us-east-1 in-region; no profile. 262,144 / 131,072, $0.15 / $0.60.
  co({
    id: 'qwen.qwen3-coder-30b-a3b-v1:0',
    family: 'qwen',
    name: 'Qwen3 Coder 30B A3B Instruct',
    aliases: ['qwen3-coder-30b'],
    contextWindow: 262_144,
    maxOutputTokens: 131_072,
    priceInPer1k: 0.00015,
    priceOutPer1k: 0.0006,
    rpm: 400,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 350,
    tokensPerSecond: 110,
  }),
  // In-region only, not in us-east-1. 128K / 16,384 and $0.22 / $1.80 from a catalog citing AWS.
  co({
    id: 'qwen.qwen3-coder-480b-a35b-v1:0',
    family: 'qwen',
    name: 'Qwen3 Coder 480B A35B Instruct',
    aliases: ['qwen3-coder-480b'],
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    priceInPer1k: 0.00022,
    priceOutPer1k: 0.0018,
    rpm: 200,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 600,
    tokensPerSecond: 60,
  }),
  // US Geo only. 122,880 / 8,192, $2.50 / $10.
  co({
    id: 'writer.palmyra-x4-v1:0',
    family: 'writer',
    name: 'Palmyra X4',
    aliases: ['palmyra-x4'],
    contextWindow: 122_880,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.0025,
    priceOutPer1k: 0.01,
    rpm: 100,
    tpm: 200_000,
    profileOnly: true,
    profiles: ['us'],
    firstTokenMs: 600,
    tokensPerSecond: 60,
  }),
  // US Geo only. 1,040,000 / 8,192, $0.60 / $6.
  co({
    id: 'writer.palmyra-x5-v1:0',
    family: 'writer',
    name: 'Palmyra X5',
    aliases: ['palmyra-x5'],
    contextWindow: 1_040_000,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.0006,
    priceOutPer1k: 0.006,
    rpm: 100,
    tpm: 200_000,
    profileOnly: true,
    profiles: ['us'],
    firstTokenMs: 600,
    tokensPerSecond: 60,
  }),
  // us-east-1 in-region; no profile. 204,608 / 128,000, $0.30 / $1.20.
  co({
    id: 'minimax.minimax-m2',
    family: 'minimax',
    name: 'MiniMax M2',
    aliases: ['minimax-m2'],
    contextWindow: 204_608,
    maxOutputTokens: 128_000,
    priceInPer1k: 0.0003,
    priceOutPer1k: 0.0012,
    rpm: 200,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 500,
    tokensPerSecond: 80,
  }),
  // us-east-1 in-region; no profile. Provider prefix `moonshotai.`. 256K / 256K, $0.60 / $3.
  co({
    id: 'moonshotai.kimi-k2.5',
    family: 'moonshot',
    name: 'Kimi K2.5',
    aliases: ['kimi-k2-5'],
    contextWindow: 256_000,
    maxOutputTokens: 256_000,
    priceInPer1k: 0.0006,
    priceOutPer1k: 0.003,
    rpm: 200,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 600,
    tokensPerSecond: 70,
  }),
  // us-east-1 in-region; Geo in GovCloud only. 128K / 4,096, $0.06 / $0.23.
  co({
    id: 'nvidia.nemotron-nano-9b-v2',
    family: 'nvidia',
    name: 'NVIDIA Nemotron Nano 9B v2',
    aliases: ['nemotron-nano-9b'],
    contextWindow: 128_000,
    maxOutputTokens: 4_096,
    priceInPer1k: 0.00006,
    priceOutPer1k: 0.00023,
    rpm: 400,
    tpm: 300_000,
    profiles: ['us-gov'],
    firstTokenMs: 250,
    tokensPerSecond: 150,
  }),
  // us-east-1 in-region; no profile. 204,800 / 131,072, $0.60 / $2.20.
  co({
    id: 'zai.glm-4.7',
    family: 'zai',
    name: 'GLM 4.7',
    aliases: ['glm-4-7'],
    contextWindow: 204_800,
    maxOutputTokens: 131_072,
    priceInPer1k: 0.0006,
    priceOutPer1k: 0.0022,
    rpm: 200,
    tpm: 300_000,
    profiles: [],
    firstTokenMs: 500,
    tokensPerSecond: 80,
  }),
];
