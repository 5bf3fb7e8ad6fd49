import type { ModelInfo } from '../info.js';
import { card, checked, entry, REGIONS_PAGE } from './entry.js';

/**
 * Anthropic Claude on bedrock-runtime (InvokeModel and Converse). How each figure was checked
 * is noted per entry: "card" (the model's card), "regions" (the regional availability page:
 * in-region support in us-east-1, profile geographies, Legacy and EOL dates), "secondary"
 * (third-party catalogs that copy AWS's figures, used where AWS's page could not be read: the
 * pricing page's tables in particular), "kept" (carried over from the previous catalog).
 *
 * Claude Opus 4.7 and later (Opus 4.8 and 5, Sonnet 5 and 5.5, Haiku 5.5, Fable 5) are on
 * the regional page too, but Anthropic documents them for Bedrock's Messages-API endpoint, not
 * for InvokeModel and Converse; they are left out until that is settled. Their ids still
 * resolve by family (`anthropic.`), with the family's defaults.
 */
export const ANTHROPIC_MODELS: readonly ModelInfo[] = [
  // card: 200K / 4K, Legacy ("in specific regions"), EOL 2026-09-10. regions: us-east-1 in-region
  // Legacy, US Geo still listed as supported. The regions page no longer shows an APAC Geo
  // profile; the fidelity work read `apac` on the inference-profiles page: kept. price: kept.
  entry({
    id: 'anthropic.claude-3-haiku-20240307-v1:0',
    family: 'anthropic',
    name: 'Claude 3 Haiku',
    aliases: ['claude-3-haiku'],
    contextWindow: 200_000,
    maxOutputTokens: 4_096,
    priceInPer1k: 0.00025,
    priceOutPer1k: 0.00125,
    // Batch inference, from the same pricing page: half of on-demand.
    batchPriceInPer1k: 0.000125,
    batchPriceOutPer1k: 0.000625,
    rpm: 1_000,
    tpm: 2_000_000,
    profiles: ['us', 'eu', 'apac', 'us-gov'],
    firstTokenMs: 350,
    tokensPerSecond: 120,
    lifecycle: 'LEGACY',
    eolDate: '2026-09-10',
    source: checked(card('anthropic-claude-3-haiku')),
  }),
  // card: 200K / 8K, Legacy, EOL 2026-06-19; no longer on the regions page. price: kept.
  entry({
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
    profiles: ['us'],
    countTokens: true,
    firstTokenMs: 400,
    tokensPerSecond: 100,
    lifecycle: 'LEGACY',
    eolDate: '2026-06-19',
    source: checked(card('anthropic-claude-3-5-haiku')),
  }),
  // regions: Geo only in us-east-1, Legacy, EOL 2026-07-30; APAC Geo. limits, price: kept.
  entry({
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
    profiles: ['us', 'apac'],
    countTokens: true,
    firstTokenMs: 700,
    tokensPerSecond: 60,
    lifecycle: 'LEGACY',
    eolDate: '2026-07-30',
    source: checked(REGIONS_PAGE),
  }),
  // regions: Legacy, EOL 2026-07-30. The regions page lists us-east-1 in-region (Legacy), which
  // disagrees with the profile-only refusal the fidelity work recorded: profile-only kept.
  // limits, price: kept.
  entry({
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
    profiles: ['us', 'eu', 'apac'],
    countTokens: true,
    firstTokenMs: 800,
    tokensPerSecond: 60,
    lifecycle: 'LEGACY',
    eolDate: '2026-07-30',
    source: checked(REGIONS_PAGE),
  }),
  // regions: Geo and Global only, Legacy, EOL 2026-10-14. limits: secondary (card via a
  // third-party catalog, 200K / 64K). price: kept.
  entry({
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
    profiles: ['us', 'eu', 'apac', 'global'],
    countTokens: true,
    firstTokenMs: 900,
    tokensPerSecond: 55,
    lifecycle: 'LEGACY',
    eolDate: '2026-10-14',
    source: checked(REGIONS_PAGE),
  }),
  // regions: US Geo only, Legacy, EOL 2027-01-08. limits 200K / 32K, price $15 / $75 per MTok:
  // secondary.
  entry({
    id: 'anthropic.claude-opus-4-1-20250805-v1:0',
    family: 'anthropic',
    name: 'Claude Opus 4.1',
    aliases: ['claude-opus-4-1'],
    contextWindow: 200_000,
    maxOutputTokens: 32_000,
    priceInPer1k: 0.015,
    priceOutPer1k: 0.075,
    rpm: 50,
    tpm: 200_000,
    profileOnly: true,
    profiles: ['us'],
    firstTokenMs: 1_200,
    tokensPerSecond: 40,
    lifecycle: 'LEGACY',
    eolDate: '2027-01-08',
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; Geo and Global only in us-east-1; Geo in US, GovCloud, Canada, EU, Tokyo,
  // Sydney and Melbourne. The page names the geographies (US, EU, Japan, Australia) but not the
  // prefixes: jp. and au. for the Asia-Pacific ones, and ca., are inferred. limits 200K / 64K,
  // price $3 / $15: secondary.
  entry({
    id: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
    family: 'anthropic',
    name: 'Claude Sonnet 4.5',
    aliases: ['claude-sonnet-4-5'],
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    priceInPer1k: 0.003,
    priceOutPer1k: 0.015,
    rpm: 200,
    tpm: 1_000_000,
    profileOnly: true,
    profiles: ['us', 'us-gov', 'ca', 'eu', 'jp', 'au', 'global'],
    firstTokenMs: 900,
    tokensPerSecond: 60,
    source: checked(REGIONS_PAGE),
  }),
  // card: Active, launched 2025-10-16, EOL not before 2026-10-01, 200K / 64K; ids us., eu., ...
  // (the card's list was cut off where read). regions: us-east-1 in-region, Geo in US, Canada,
  // EU, Tokyo, Sydney, Melbourne; Global. jp./au./ca. inferred as for Sonnet 4.5.
  // price $1 / $5: secondary (Anthropic's page agrees).
  entry({
    id: 'anthropic.claude-haiku-4-5-20251001-v1:0',
    family: 'anthropic',
    name: 'Claude Haiku 4.5',
    aliases: ['claude-haiku-4-5'],
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    priceInPer1k: 0.001,
    priceOutPer1k: 0.005,
    rpm: 1_000,
    tpm: 2_000_000,
    profiles: ['us', 'ca', 'eu', 'jp', 'au', 'global'],
    firstTokenMs: 400,
    tokensPerSecond: 110,
    source: checked(card('anthropic-claude-haiku-4-5')),
  }),
  // regions: Active; Geo and Global only; Geo in US, Canada, EU. limits 200K / 64K, price
  // $5 / $25: secondary.
  entry({
    id: 'anthropic.claude-opus-4-5-20251101-v1:0',
    family: 'anthropic',
    name: 'Claude Opus 4.5',
    aliases: ['claude-opus-4-5'],
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    priceInPer1k: 0.005,
    priceOutPer1k: 0.025,
    rpm: 100,
    tpm: 500_000,
    profileOnly: true,
    profiles: ['us', 'ca', 'eu', 'global'],
    firstTokenMs: 1_100,
    tokensPerSecond: 45,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; in-region only in eu-west-2, so profile-only in us-east-1; Geo in US,
  // Canada, EU, Tokyo, Osaka, Sydney, Melbourne, New Zealand; Global. limits 1M / 64K: secondary
  // (a catalog citing the card); Anthropic's own page gives 128K output: AWS's figure kept.
  // price $3 / $15: secondary.
  entry({
    id: 'anthropic.claude-sonnet-4-6',
    family: 'anthropic',
    name: 'Claude Sonnet 4.6',
    aliases: ['claude-sonnet-4-6'],
    contextWindow: 1_000_000,
    maxOutputTokens: 64_000,
    priceInPer1k: 0.003,
    priceOutPer1k: 0.015,
    rpm: 200,
    tpm: 1_000_000,
    profileOnly: true,
    profiles: ['us', 'ca', 'eu', 'jp', 'au', 'global'],
    firstTokenMs: 900,
    tokensPerSecond: 60,
    source: checked(REGIONS_PAGE),
  }),
  // regions: Active; profile-only in us-east-1; Geo in US, Canada, EU, Sydney, Melbourne, New
  // Zealand; Global. limits 1M / 128K, price $5 / $25: secondary.
  entry({
    id: 'anthropic.claude-opus-4-6-v1',
    family: 'anthropic',
    name: 'Claude Opus 4.6',
    aliases: ['claude-opus-4-6'],
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    priceInPer1k: 0.005,
    priceOutPer1k: 0.025,
    rpm: 100,
    tpm: 500_000,
    profileOnly: true,
    profiles: ['us', 'ca', 'eu', 'au', 'global'],
    firstTokenMs: 1_100,
    tokensPerSecond: 45,
    source: checked(REGIONS_PAGE),
  }),
];
