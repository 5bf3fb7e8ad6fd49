import { type ModelInfo, PLAIN_CONVERSE } from '../info.js';
import { card, checked, entry, REGIONS_PAGE } from './entry.js';

/**
 * Amazon Titan Text and Nova. Notes as in `anthropic.ts`: card, regions, secondary, kept.
 *
 * Titan Text (Lite, Express, Premier) is no longer on the regional availability page, nor on
 * the supported-models list: AWS has retired it. Its EOL date was not found on a page we could
 * read, so the entries are LEGACY without one. They stay so that configs naming them resolve.
 */
export const AMAZON_MODELS: readonly ModelInfo[] = [
  // Gone from the regions page (see above). limits, price: kept.
  entry({
    id: 'amazon.titan-text-lite-v1',
    // Not among the models AWS lists for batch inference.
    batchInference: false,
    family: 'titan',
    name: 'Titan Text Lite',
    aliases: ['titan-lite'],
    contextWindow: 4_096,
    maxOutputTokens: 4_096,
    priceInPer1k: 0.00015,
    priceOutPer1k: 0.0002,
    rpm: 800,
    tpm: 300_000,
    profiles: [],
    converse: PLAIN_CONVERSE,
    firstTokenMs: 250,
    tokensPerSecond: 150,
    lifecycle: 'LEGACY',
    source: checked(REGIONS_PAGE),
  }),
  // Gone from the regions page. limits, price: kept.
  entry({
    id: 'amazon.titan-text-express-v1',
    // Not among the models AWS lists for batch inference.
    batchInference: false,
    family: 'titan',
    name: 'Titan Text Express',
    aliases: ['titan-express'],
    contextWindow: 8_192,
    maxOutputTokens: 8_192,
    priceInPer1k: 0.0002,
    priceOutPer1k: 0.0006,
    rpm: 400,
    tpm: 300_000,
    profiles: [],
    converse: PLAIN_CONVERSE,
    firstTokenMs: 300,
    tokensPerSecond: 120,
    lifecycle: 'LEGACY',
    source: checked(REGIONS_PAGE),
  }),
  // Gone from the regions page. limits, price: kept.
  entry({
    id: 'amazon.titan-text-premier-v1:0',
    // Not among the models AWS lists for batch inference.
    batchInference: false,
    family: 'titan',
    name: 'Titan Text Premier',
    aliases: ['titan-premier'],
    contextWindow: 32_000,
    maxOutputTokens: 3_072,
    priceInPer1k: 0.0005,
    priceOutPer1k: 0.0015,
    rpm: 100,
    tpm: 100_000,
    profiles: [],
    converse: PLAIN_CONVERSE,
    firstTokenMs: 500,
    tokensPerSecond: 80,
    lifecycle: 'LEGACY',
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; us-east-1 in-region; Geo in US, EU and Asia-Pacific (apac.). Output: the
  // Nova Lite card gives 5K where AWS's Nova 1 -> 2 migration post gives 10K (a third-party
  // reading of both); the 10K the fidelity work used is kept. price: kept, secondary agrees.
  entry({
    id: 'amazon.nova-micro-v1:0',
    family: 'nova',
    name: 'Nova Micro',
    aliases: ['nova-micro'],
    contextWindow: 128_000,
    maxOutputTokens: 10_000,
    priceInPer1k: 0.000035,
    priceOutPer1k: 0.00014,
    rpm: 2_000,
    tpm: 4_000_000,
    profiles: ['us', 'eu', 'apac'],
    firstTokenMs: 200,
    tokensPerSecond: 200,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; us-east-1 in-region; Geo in US, Canada, EU and Asia-Pacific. Output as for
  // Nova Micro. price: kept, secondary agrees.
  entry({
    id: 'amazon.nova-lite-v1:0',
    family: 'nova',
    name: 'Nova Lite',
    aliases: ['nova-lite'],
    contextWindow: 300_000,
    maxOutputTokens: 10_000,
    priceInPer1k: 0.00006,
    priceOutPer1k: 0.00024,
    rpm: 2_000,
    tpm: 4_000_000,
    profiles: ['us', 'ca', 'eu', 'apac'],
    firstTokenMs: 250,
    tokensPerSecond: 160,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; us-east-1 in-region; Geo in US, EU and Asia-Pacific. Output as for Nova
  // Micro. price: kept, secondary agrees.
  entry({
    id: 'amazon.nova-pro-v1:0',
    family: 'nova',
    name: 'Nova Pro',
    aliases: ['nova-pro'],
    contextWindow: 300_000,
    maxOutputTokens: 10_000,
    priceInPer1k: 0.0008,
    priceOutPer1k: 0.0032,
    rpm: 250,
    tpm: 1_000_000,
    profiles: ['us', 'eu', 'apac'],
    firstTokenMs: 450,
    tokensPerSecond: 90,
    source: checked(REGIONS_PAGE),
  }),
  // card: Legacy, EOL 2026-09-14, 1M / 25K. The regions page still lists its US Geo profile as
  // supported; the card's Legacy and EOL are taken. price $2.50 / $12.50: secondary.
  entry({
    id: 'amazon.nova-premier-v1:0',
    family: 'nova',
    name: 'Nova Premier',
    aliases: ['nova-premier'],
    contextWindow: 1_000_000,
    maxOutputTokens: 25_000,
    priceInPer1k: 0.0025,
    priceOutPer1k: 0.0125,
    rpm: 100,
    tpm: 500_000,
    profileOnly: true,
    profiles: ['us'],
    firstTokenMs: 800,
    tokensPerSecond: 60,
    lifecycle: 'LEGACY',
    eolDate: '2026-09-14',
    source: checked(card('amazon-nova-premier')),
  }),
  // regions: Active; Geo and Global only (no in-region anywhere); Geo in US, Canada, EU and
  // Tokyo (jp. inferred). limits 1M / 64K: the card as read by a third party (AWS's migration
  // post says 65K). price $0.33 / $2.75: secondary.
  entry({
    id: 'amazon.nova-2-lite-v1:0',
    family: 'nova',
    name: 'Nova 2 Lite',
    aliases: ['nova-2-lite'],
    contextWindow: 1_000_000,
    maxOutputTokens: 64_000,
    priceInPer1k: 0.00033,
    priceOutPer1k: 0.00275,
    rpm: 1_000,
    tpm: 2_000_000,
    profileOnly: true,
    profiles: ['us', 'ca', 'eu', 'jp', 'global'],
    firstTokenMs: 300,
    tokensPerSecond: 150,
    source: checked(REGIONS_PAGE),
  }),
];
