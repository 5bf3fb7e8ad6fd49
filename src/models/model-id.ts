import type { Family } from './request.js';

/**
 * Geography prefixes of system-defined cross-region inference profiles (`us.`, `eu.`, ...).
 * The one copy of this list: the catalog and the simulator both peel profiles with it.
 */
export const GEOS = ['us', 'eu', 'apac', 'global', 'us-gov', 'jp', 'au', 'ca'] as const;
/** One of {@link GEOS}. */
export type Geo = (typeof GEOS)[number];
const GEO_PREFIX = new RegExp(`^(${GEOS.join('|')})\\.`);
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
  // Families we serve through Converse only (`CONVERSE_ONLY_FAMILIES`).
  ['openai.', 'openai'],
  ['deepseek.', 'deepseek'],
  ['qwen.', 'qwen'],
  ['writer.', 'writer'],
  ['google.', 'google'],
  ['minimax.', 'minimax'],
  // Bedrock names Moonshot's models under two providers: `moonshot.` and `moonshotai.`.
  ['moonshot', 'moonshot'],
  ['nvidia.', 'nvidia'],
  ['zai.', 'zai'],
];

/** Peels a cross-region profile's geo prefix off an id: `us.x` → `{ baseId: 'x', geo: 'us' }`. */
export function splitGeoPrefix(id: string): { baseId: string; geo?: string } {
  const geo = GEO_PREFIX.exec(id);
  return geo?.[1] ? { baseId: id.slice(geo[0].length), geo: geo[1] } : { baseId: id };
}

/** Peels ARN and geo prefix off an id: `arn:…:inference-profile/us.x` → `{ baseId: 'x', geo: 'us' }`. */
export function parseModelId(id: string): { baseId: string; geo?: string } {
  const arn = ARN.exec(id);
  return splitGeoPrefix(arn?.[1] ?? id);
}

/** The family an id belongs to by its provider prefix, or undefined. */
export function inferFamily(id: string): Family | undefined {
  const { baseId } = parseModelId(id);
  return FAMILY_PREFIXES.find(([prefix]) => baseId.startsWith(prefix))?.[1];
}

/**
 * An application inference profile's ARN (`…:application-inference-profile/<12-character id>`):
 * a profile an account made from a model or a system profile. Unlike a system profile's id, it
 * says nothing of the model behind it: config `inferenceProfiles` names that model.
 */
const APPLICATION_PROFILE_ARN =
  /^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:application-inference-profile\/[a-z0-9]{12}$/;

/** Whether an id is an application inference profile's ARN. */
export function isApplicationProfileArn(id: string): boolean {
  return APPLICATION_PROFILE_ARN.test(id);
}
