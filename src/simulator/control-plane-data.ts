import type { ModelInfo } from '../models/info.js';
import { GEOS } from '../models/model-id.js';
import type { Family } from '../models/request.js';

/**
 * What the simulator's control plane (`bedrock`, not `bedrock-runtime`) answers, built from
 * the catalog: foundation model summaries, availability and system-defined cross-region
 * inference profiles. Shapes follow the `bedrock` service model of the AWS SDKs
 * (`docs/bedrock-wire.md#control-plane`). Pure: the HTTP side is `control-plane.ts`.
 */

/** The account every simulated ARN belongs to. */
export const SIM_ACCOUNT = '111122223333';

/** Regions of each geography's system-defined profiles: where a call from one of them may be routed. */
const GEO_REGIONS: Readonly<Record<string, readonly string[]>> = {
  us: ['us-east-1', 'us-east-2', 'us-west-2'],
  'us-gov': ['us-gov-east-1', 'us-gov-west-1'],
  eu: ['eu-central-1', 'eu-west-1', 'eu-west-3', 'eu-north-1'],
  apac: ['ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2'],
  jp: ['ap-northeast-1', 'ap-northeast-3'],
  au: ['ap-southeast-2', 'ap-southeast-4'],
  ca: ['ca-central-1', 'ca-west-1'],
};
const COMMERCIAL_REGIONS = [
  ...new Set(Object.entries(GEO_REGIONS).flatMap(([geo, regions]) => (geo === 'us-gov' ? [] : regions))),
];

const GEO_LABELS: Readonly<Record<string, string>> = {
  us: 'US',
  'us-gov': 'US-GOV',
  eu: 'EU',
  apac: 'APAC',
  jp: 'JP',
  au: 'AU',
  ca: 'CA',
  global: 'Global',
};

/** The regions a geography's profile routes to; `global` spans every commercial region. */
export function geoRegions(geo: string): readonly string[] {
  return geo === 'global' ? COMMERCIAL_REGIONS : (GEO_REGIONS[geo] ?? []);
}

/**
 * The geographies whose system profiles serve `model` in `region`: the catalog's `profiles` (every
 * geography when it does not know them, as the runtime side then accepts any), and of those only
 * the ones offered where the call comes from (an `eu.` profile does not exist in us-east-1).
 */
export function profileGeos(model: ModelInfo, region: string): string[] {
  const geos: readonly string[] = model.profiles ?? GEOS;
  return geos.filter((geo) => geoRegions(geo).includes(region));
}

const PROVIDERS: Readonly<Record<Family, string>> = {
  anthropic: 'Anthropic',
  titan: 'Amazon',
  nova: 'Amazon',
  llama: 'Meta',
  mistral: 'Mistral AI',
  cohere: 'Cohere',
  openai: 'OpenAI',
  deepseek: 'DeepSeek',
  qwen: 'Qwen',
  writer: 'Writer',
  google: 'Google',
  minimax: 'MiniMax',
  moonshot: 'Moonshot AI',
  nvidia: 'NVIDIA',
  zai: 'Z.AI',
};

/** `arn:aws:bedrock:<region>::foundation-model/<id>` (foundation models have no account). */
export const modelArn = (region: string, id: string): string =>
  `arn:aws:bedrock:${region}::foundation-model/${id}`;

/** `arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>`. */
export const profileArn = (region: string, profileId: string): string =>
  `arn:aws:bedrock:${region}:${SIM_ACCOUNT}:inference-profile/${profileId}`;

/** A `FoundationModelSummary` (also ListFoundationModels' and GetFoundationModel's `modelDetails`). */
export interface FoundationModelSummary {
  modelArn: string;
  modelId: string;
  modelName: string;
  providerName: string;
  inputModalities: string[];
  outputModalities: string[];
  responseStreamingSupported: boolean;
  customizationsSupported: string[];
  inferenceTypesSupported: string[];
  modelLifecycle: { status: string };
}

/**
 * A model as ListFoundationModels lists it. A model callable only through a profile supports
 * the inference type `INFERENCE_PROFILE` and not `ON_DEMAND`, as Bedrock reports it.
 */
export function modelSummary(model: ModelInfo, region: string): FoundationModelSummary {
  return {
    modelArn: modelArn(region, model.id),
    modelId: model.id,
    modelName: model.name,
    providerName: PROVIDERS[model.family],
    inputModalities: ['TEXT'],
    outputModalities: ['TEXT'],
    responseStreamingSupported: true,
    customizationsSupported: [],
    inferenceTypesSupported: model.profileOnly ? ['INFERENCE_PROFILE'] : ['ON_DEMAND'],
    modelLifecycle: { status: model.lifecycle },
  };
}

/** ListFoundationModels' filters, validated. */
export interface ModelFilter {
  byProvider?: string | undefined;
  byCustomizationType?: string | undefined;
  byOutputModality?: string | undefined;
  byInferenceType?: string | undefined;
}

/** Whether a summary passes every filter given; the provider matches its name or id prefix, any case. */
export function matchesFilter(s: FoundationModelSummary, f: ModelFilter): boolean {
  if (f.byProvider) {
    const want = f.byProvider.toLowerCase();
    const prefix = s.modelId.split('.')[0] ?? '';
    if (s.providerName.toLowerCase() !== want && prefix !== want) return false;
  }
  if (f.byOutputModality && !s.outputModalities.includes(f.byOutputModality)) return false;
  if (f.byInferenceType && !s.inferenceTypesSupported.includes(f.byInferenceType)) return false;
  if (f.byCustomizationType && !s.customizationsSupported.includes(f.byCustomizationType)) return false;
  return true;
}

/** The availability of a model: everything granted, or, for one the profile marks not enabled, nothing. */
export function availability(modelId: string, enabled: boolean) {
  return {
    modelId,
    agreementAvailability: { status: enabled ? 'AVAILABLE' : 'NOT_AVAILABLE' },
    authorizationStatus: enabled ? 'AUTHORIZED' : 'NOT_AUTHORIZED',
    entitlementAvailability: enabled ? 'AVAILABLE' : 'NOT_AVAILABLE',
    regionAvailability: 'AVAILABLE',
  };
}

/** An `InferenceProfileSummary` (also GetInferenceProfile's answer). */
export interface InferenceProfile {
  inferenceProfileName: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  inferenceProfileArn: string;
  models: { modelArn: string }[];
  inferenceProfileId: string;
  status: 'ACTIVE';
  type: 'SYSTEM_DEFINED' | 'APPLICATION';
}

/** When the simulated system profiles were made: a fixed date, so answers do not change between runs. */
const PROFILES_CREATED = '2024-08-27T00:00:00Z';

/** The system-defined profile `<geo>.<model id>` as seen from `region`. */
export function systemProfile(model: ModelInfo, geo: string, region: string): InferenceProfile {
  const regions = geoRegions(geo);
  const id = `${geo}.${model.id}`;
  return {
    inferenceProfileName: `${GEO_LABELS[geo] ?? geo.toUpperCase()} ${model.name}`,
    description: `Routes requests to ${model.name} in ${regions.join(', ')}.`,
    createdAt: PROFILES_CREATED,
    updatedAt: PROFILES_CREATED,
    inferenceProfileArn: profileArn(region, id),
    models: regions.map((r) => ({ modelArn: modelArn(r, model.id) })),
    inferenceProfileId: id,
    status: 'ACTIVE',
    type: 'SYSTEM_DEFINED',
  };
}
