import type {
  FoundationModelSummary,
  GetFoundationModelAvailabilityResponse,
  GetInferenceProfileResponse,
} from '@aws-sdk/client-bedrock';
import { z } from 'zod';
import type { ModelCatalog } from '../models/catalog.js';
import { type BedrockControlPlane, callFailure, describeFailure } from './control-plane.js';

/** `usable`: the account may call it; `unusable`: a call would be refused; `unknown`: we could not tell. */
export const ACCESS_STATUSES = ['usable', 'unusable', 'unknown'] as const;
export type AccessStatus = (typeof ACCESS_STATUSES)[number];

/** What the control plane says of one model id, as a chain names it. */
export const ModelAccessSchema = z.object({
  id: z.string().describe('as written in the chain'),
  requestId: z.string().describe('as sent to Bedrock'),
  baseId: z.string().describe('the foundation model behind it'),
  status: z.enum(ACCESS_STATUSES),
  reason: z.string().optional().describe('why it is not usable, or why we cannot tell'),
  lifecycle: z.string().optional().describe('ACTIVE or LEGACY'),
  profile: z
    .object({
      arn: z.string(),
      type: z.string().describe('SYSTEM_DEFINED or APPLICATION'),
      regions: z.array(z.string()).describe('where it routes calls'),
      models: z.array(z.string()).describe('the foundation model ids it routes to'),
    })
    .optional()
    .describe('for an inference profile: where it routes'),
});
export type ModelAccess = z.infer<typeof ModelAccessSchema>;

/** `arn:aws:bedrock:<region>::foundation-model/<id>` → its region and id. */
function parseModelArn(arn: string): { region: string; modelId: string } | undefined {
  const m = /^arn:aws[a-z-]*:bedrock:([a-z0-9-]*):\d*:foundation-model\/(.+)$/.exec(arn);
  return m ? { region: m[1] ?? '', modelId: m[2] ?? '' } : undefined;
}

/** The fields of an availability answer that refuse access, e.g. `authorization NOT_AUTHORIZED`. */
function refusals(a: GetFoundationModelAvailabilityResponse): string[] {
  const out: string[] = [];
  if (a.authorizationStatus !== 'AUTHORIZED') out.push(`authorization ${a.authorizationStatus ?? 'unknown'}`);
  if (a.agreementAvailability?.status !== 'AVAILABLE')
    out.push(`agreement ${a.agreementAvailability?.status ?? 'unknown'}`);
  if (a.entitlementAvailability !== 'AVAILABLE')
    out.push(`entitlement ${a.entitlementAvailability ?? 'unknown'}`);
  if (a.regionAvailability !== 'AVAILABLE') out.push(`region ${a.regionAvailability ?? 'unknown'}`);
  return out;
}

type Verdict = { status: Exclude<AccessStatus, 'usable'>; reason: string };

/** What a failed call says of the model: not found means unusable, anything else unknown. */
function failed(e: unknown, action: string, notFound: string): Verdict {
  switch (callFailure(e)) {
    case 'not_found':
      return { status: 'unusable', reason: notFound };
    case 'access_denied':
      return { status: 'unknown', reason: `no permission for bedrock:${action}` };
    default:
      return { status: 'unknown', reason: `${action} failed (${describeFailure(e)})` };
  }
}

/**
 * Asks the control plane whether each id may be called: the model is offered in the region
 * (ListFoundationModels), callable on demand or through the profile given, its access granted
 * (GetFoundationModelAvailability), and a profile exists there and routes to the model the
 * catalog expects (GetInferenceProfile). One answer per distinct id, in first-seen order.
 * @throws ControlPlaneUnreachable when ListFoundationModels gets no answer (permission, network)
 */
export async function checkModelAccess(
  plane: BedrockControlPlane,
  catalog: ModelCatalog,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<ModelAccess[]> {
  const offered = await plane.foundationModels(signal);
  const availability = new Map<string, Promise<GetFoundationModelAvailabilityResponse | Verdict>>();
  const availabilityOf = (baseId: string) => {
    let found = availability.get(baseId);
    if (!found) {
      found = plane
        .availability(baseId, signal)
        .catch((e: unknown) => failed(e, 'GetFoundationModelAvailability', `not offered in ${plane.region}`));
      availability.set(baseId, found);
    }
    return found;
  };

  const check = async (id: string): Promise<ModelAccess> => {
    const model = catalog.resolve(id);
    if (!model) return { id, requestId: id, baseId: id, status: 'unknown', reason: 'not in the catalog' };
    const verdicts: Verdict[] = [];
    const out: ModelAccess = { id, requestId: model.requestId, baseId: model.baseId, status: 'usable' };
    const summary: FoundationModelSummary | undefined = offered.get(model.baseId);
    if (summary?.modelLifecycle?.status) out.lifecycle = summary.modelLifecycle.status;
    const viaProfile = model.geo !== undefined || model.applicationProfile === true;
    if (viaProfile) {
      const profile = await plane
        .inferenceProfile(model.requestId, signal)
        .catch((e: unknown) =>
          failed(e, 'GetInferenceProfile', `no inference profile ${model.requestId} in ${plane.region}`),
        );
      if ('reason' in profile) verdicts.push(profile);
      else {
        const p: GetInferenceProfileResponse = profile;
        const arns = (p.models ?? []).flatMap((m) => (m.modelArn ? [parseModelArn(m.modelArn)] : []));
        const models = [...new Set(arns.flatMap((a) => (a ? [a.modelId] : [])))];
        out.profile = {
          arn: p.inferenceProfileArn ?? model.requestId,
          type: p.type ?? 'SYSTEM_DEFINED',
          regions: arns.flatMap((a) => (a?.region ? [a.region] : [])),
          models,
        };
        if (p.status !== 'ACTIVE') verdicts.push({ status: 'unusable', reason: `profile ${p.status}` });
        if (models.length > 0 && !models.includes(model.baseId))
          verdicts.push({
            status: 'unusable',
            reason: `the profile routes to ${models.join(', ')}, not to ${model.baseId} as the config says`,
          });
      }
    }
    if (!summary) verdicts.push({ status: 'unusable', reason: `not offered in ${plane.region}` });
    else if (!viaProfile && !(summary.inferenceTypesSupported ?? []).includes('ON_DEMAND'))
      verdicts.push({
        status: 'unusable',
        reason: `callable only through an inference profile (e.g. us.${model.baseId})`,
      });
    if (summary) {
      const a = await availabilityOf(model.baseId);
      if ('reason' in a) verdicts.push(a);
      else if (refusals(a).length > 0)
        verdicts.push({ status: 'unusable', reason: `access not granted (${refusals(a).join(', ')})` });
    }
    const worst = verdicts.find((v) => v.status === 'unusable') ?? verdicts[0];
    if (worst) {
      out.status = worst.status;
      out.reason = verdicts
        .filter((v) => v.status === worst.status)
        .map((v) => v.reason)
        .join('; ');
    }
    return out;
  };

  return Promise.all([...new Set(ids)].map(check));
}
