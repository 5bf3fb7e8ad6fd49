import { BUILTIN_MODELS } from './builtin.js';
import {
  FAMILY_DEFAULTS,
  isConverseOnly,
  type ModelInfo,
  type ModelInfoInput,
  ModelInfoSchema,
} from './info.js';
import { inferFamily, parseModelId } from './model-id.js';
import type { Family } from './request.js';

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
  /** True for an application inference profile: `requestId` is its ARN, the rest its model's. */
  applicationProfile?: true;
}

/** What a config adds to the built-in catalog (`customModels`, `inferenceProfiles`). */
export interface CatalogAdditions {
  customModels?: readonly ModelInfoInput[];
  /** Application inference profile ARN → the model (id, alias or system profile id) it routes to. */
  inferenceProfiles?: Readonly<Record<string, string>>;
}

/**
 * The models we know: the built-in list plus those a config adds or overrides (by id),
 * looked up by id, alias, profile id or ARN.
 */
export class ModelCatalog {
  private readonly byId = new Map<string, ModelInfo>();
  private readonly byAlias = new Map<string, string>();
  private readonly profiles = new Map<string, string>();

  /**
   * @param profiles application inference profile ARN → the model it routes to
   * @throws Error when a profile's model is neither listed nor of a family its id reveals
   */
  constructor(
    extra: readonly ModelInfoInput[] = [],
    builtin: readonly ModelInfo[] = BUILTIN_MODELS,
    profiles: Readonly<Record<string, string>> = {},
  ) {
    for (const info of builtin) this.add(info);
    for (const info of extra) this.add(ModelInfoSchema.parse(info));
    for (const [arn, target] of Object.entries(profiles)) {
      if (!this.resolve(target))
        throw new Error(
          `inferenceProfiles["${arn}"]: model "${target}" is not in the catalog and its family cannot be inferred`,
        );
      this.profiles.set(arn, target);
    }
  }

  /** The built-in catalog plus what a config adds: `ModelCatalog.of(config)`. */
  static of(additions: CatalogAdditions): ModelCatalog {
    return new ModelCatalog(additions.customModels, BUILTIN_MODELS, additions.inferenceProfiles);
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
    const target = this.profiles.get(id);
    if (target !== undefined) {
      const model = this.resolve(target);
      return model && { ...model, requestId: id, applicationProfile: true };
    }
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

/**
 * The API a call to the model uses: Converse for a model we serve through Converse only (its
 * family has no native adapter), whatever the job asked; otherwise the job's own choice.
 */
export function apiFor<A extends 'invoke' | 'converse'>(
  model: Pick<ResolvedModel, 'info'>,
  requested: A,
): A | 'converse' {
  return isConverseOnly(model.info) ? 'converse' : requested;
}
