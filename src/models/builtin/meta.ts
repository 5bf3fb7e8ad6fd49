import { type ModelInfo, UNARY_TOOLS_CONVERSE } from '../info.js';
import { checked, entry, REGIONS_PAGE } from './entry.js';

/**
 * Meta Llama. Notes as in `anthropic.ts`: card, regions, secondary, kept.
 * Llama 3.2 and 3.1 405B passed their EOL (2026-07-07, regions page) and are not listed.
 */
export const META_MODELS: readonly ModelInfo[] = [
  // regions: Active; in-region in us-east-1; no profile. limits, price: kept.
  entry({
    id: 'meta.llama3-8b-instruct-v1:0',
    // Not among the models AWS lists for batch inference.
    batchInference: false,
    family: 'llama',
    name: 'Llama 3 8B Instruct',
    aliases: ['llama3-8b'],
    contextWindow: 8_192,
    maxOutputTokens: 2_048,
    priceInPer1k: 0.0003,
    priceOutPer1k: 0.0006,
    rpm: 800,
    tpm: 300_000,
    profiles: [],
    converse: { tools: 'none', toolChoice: [] },
    firstTokenMs: 250,
    tokensPerSecond: 140,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; in-region in us-east-1; no profile. limits, price: kept.
  entry({
    id: 'meta.llama3-70b-instruct-v1:0',
    // Not among the models AWS lists for batch inference.
    batchInference: false,
    family: 'llama',
    name: 'Llama 3 70B Instruct',
    aliases: ['llama3-70b'],
    contextWindow: 8_192,
    maxOutputTokens: 2_048,
    priceInPer1k: 0.00265,
    priceOutPer1k: 0.0035,
    rpm: 400,
    tpm: 300_000,
    profiles: [],
    converse: { tools: 'none', toolChoice: [] },
    firstTokenMs: 450,
    tokensPerSecond: 60,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; us-east-1 serves it through the US Geo profile only (us-west-2 in-region
  // too), so it is profile-only here. limits, price: kept; secondary agrees on the price.
  entry({
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
    profileOnly: true,
    profiles: ['us'],
    converse: UNARY_TOOLS_CONVERSE,
    firstTokenMs: 250,
    tokensPerSecond: 140,
    source: checked(REGIONS_PAGE),
  }),
  // regions: as Llama 3.1 8B. limits, price: kept; secondary agrees on the price.
  entry({
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
    profileOnly: true,
    profiles: ['us'],
    converse: UNARY_TOOLS_CONVERSE,
    firstTokenMs: 450,
    tokensPerSecond: 60,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; US Geo only in us-east-1 (us-east-2 in-region). limits, price: kept;
  // secondary agrees on the price.
  entry({
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
    profiles: ['us'],
    converse: UNARY_TOOLS_CONVERSE,
    firstTokenMs: 450,
    tokensPerSecond: 60,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; US Geo only. Llama 4's chat template is not Llama 3's, and we build only
  // Llama 3's: it is served through Converse (Bedrock's Llama page: no response streaming
  // for Llama 4). limits 3.5M / 16K, price $0.17 / $0.66: secondary.
  entry({
    id: 'meta.llama4-scout-17b-instruct-v1:0',
    family: 'llama',
    name: 'Llama 4 Scout 17B Instruct',
    aliases: ['llama4-scout'],
    contextWindow: 3_500_000,
    maxOutputTokens: 16_384,
    priceInPer1k: 0.00017,
    priceOutPer1k: 0.00066,
    rpm: 400,
    tpm: 300_000,
    profileOnly: true,
    profiles: ['us'],
    converse: UNARY_TOOLS_CONVERSE,
    converseOnly: true,
    firstTokenMs: 400,
    tokensPerSecond: 90,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; US Geo only. Served through Converse as Scout. limits 1M / 16K, price
  // $0.24 / $0.97: secondary.
  entry({
    id: 'meta.llama4-maverick-17b-instruct-v1:0',
    family: 'llama',
    name: 'Llama 4 Maverick 17B Instruct',
    aliases: ['llama4-maverick'],
    contextWindow: 1_000_000,
    maxOutputTokens: 16_384,
    priceInPer1k: 0.00024,
    priceOutPer1k: 0.00097,
    rpm: 400,
    tpm: 300_000,
    profileOnly: true,
    profiles: ['us'],
    converse: UNARY_TOOLS_CONVERSE,
    converseOnly: true,
    firstTokenMs: 450,
    tokensPerSecond: 80,
    source: checked(REGIONS_PAGE),
  }),
];
