import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ModelCatalog } from '../models/catalog.js';
import type { ModelInfo } from '../models/info.js';
import { isApplicationProfileArn, parseModelId } from '../models/model-id.js';
import { batchOperation } from './batch-api.js';
import type { BatchJobs } from './batch-jobs.js';
import { type SimError, type SimulatorControl, simError } from './control.js';
import {
  availability,
  type InferenceProfile,
  matchesFilter,
  modelArn,
  modelSummary,
  profileGeos,
  SIM_ACCOUNT,
  systemProfile,
} from './control-plane-data.js';
import {
  CreateProfileBody,
  invalid,
  jsonBody,
  ListModelsQuery,
  ListProfilesQuery,
} from './control-plane-input.js';
import { sendError, sendRawError } from './errors-wire.js';
import type { AnyRequest } from './listener.js';
import { signedRegion } from './signing.js';
import { type Reply, sendJson } from './wire.js';

/** How the control plane answers; plain data, defaults here only. */
export const ControlPlaneOptionsSchema = z
  .object({
    access: z
      .enum(['allowed', 'denied'])
      .default('allowed')
      .describe(
        'denied: every control-plane call answers AccessDeniedException, as for a role without bedrock:ListFoundationModels and the like',
      ),
  })
  .strict();
export type ControlPlaneOptions = z.input<typeof ControlPlaneOptionsSchema>;

/** The `bedrock` control plane beside the runtime, on the same port. */
export interface ControlPlane {
  /**
   * Answers `req` when it is a control-plane operation (ListFoundationModels, GetFoundationModel,
   * GetFoundationModelAvailability, List/Get/Create/DeleteInferenceProfile,
   * Create/Get/List/StopModelInvocationJob).
   * @returns false, having sent nothing, for any other path
   */
  handle(req: AnyRequest, reply: Reply): boolean;
  /**
   * What a runtime call to `modelId` reaches: for an application inference profile made here,
   * the model or system profile it was copied from; any other id unchanged.
   */
  target(modelId: string): string;
}

/** A status and JSON body, or an error in Bedrock's shape. */
type Answer = [status: number, body: unknown] | SimError;

/** One operation: the IAM action it needs and how it answers. */
interface Operation {
  action: string;
  run(): Answer | Promise<Answer>;
}

/** An application inference profile made with CreateInferenceProfile. */
interface ApplicationProfile {
  summary: InferenceProfile;
  /** The base model id or system profile id it copies. */
  source: string;
}

/** The 12-character id of an application profile: the same name always gets the same id. */
const applicationId = (name: string): string => createHash('sha256').update(name).digest('hex').slice(0, 12);

const NOT_FOUND = {
  model: (id: string) => `The model ${id} was not found.`,
  profile: (id: string) => `The inference profile ${id} was not found.`,
};

/**
 * The simulator's `bedrock` control plane: answers from the catalog, with each model's
 * access as the behaviour side has it (`enabled: false` reports the model not authorized).
 * ARNs carry the region the request was signed for.
 */
export function createControlPlane(deps: {
  catalog: ModelCatalog;
  control: Pick<SimulatorControl, 'model'>;
  options?: ControlPlaneOptions;
  /** Model invocation jobs; without it those paths are none of the control plane's. */
  batch?: BatchJobs;
}): ControlPlane {
  const { catalog, control } = deps;
  const options = ControlPlaneOptionsSchema.parse(deps.options ?? {});
  const applications = new Map<string, ApplicationProfile>();

  /** Whether the model is offered in this region (the profile may mark it `available: false`). */
  const offered = (id: string): boolean => control.model(id)?.available === true;

  /** A catalog model Bedrock offers by this id or foundation-model ARN. */
  const modelFor = (idOrArn: string): ModelInfo | undefined => {
    const { baseId, geo } = parseModelId(idOrArn);
    const info = catalog.get(baseId);
    return info && info.id === baseId && !geo && offered(baseId) ? info : undefined;
  };

  const enabled = (id: string): boolean => control.model(id)?.enabled ?? false;

  /** A system profile by id or ARN, when it is offered in `region`. */
  const systemFor = (idOrArn: string, region: string): InferenceProfile | undefined => {
    const { baseId, geo } = parseModelId(idOrArn);
    const info = catalog.get(baseId);
    if (!geo || !info || info.id !== baseId || !offered(baseId) || !profileGeos(info, region).includes(geo))
      return undefined;
    return systemProfile(info, geo, region);
  };

  const applicationFor = (idOrArn: string): ApplicationProfile | undefined => {
    const id = idOrArn.split('/').at(-1) ?? idOrArn;
    return applications.get(id);
  };

  const systemProfiles = (region: string): InferenceProfile[] =>
    catalog
      .list()
      .filter((m) => offered(m.id))
      .flatMap((m) => profileGeos(m, region).map((geo) => systemProfile(m, geo, region)));

  function createProfile(body: Record<string, unknown>, region: string): Answer {
    const parsed = CreateProfileBody.safeParse(body);
    if (!parsed.success) return invalid(parsed.error, body);
    const { inferenceProfileName: name, description, modelSource } = parsed.data;
    const id = applicationId(name);
    if (applications.has(id))
      return simError('ConflictException', `An inference profile named ${name} already exists.`);
    const model = modelFor(modelSource.copyFrom);
    const system = model ? undefined : systemFor(modelSource.copyFrom, region);
    if (!model && !system)
      return simError('ResourceNotFoundException', NOT_FOUND.model(modelSource.copyFrom));
    const arn = `arn:aws:bedrock:${region}:${SIM_ACCOUNT}:application-inference-profile/${id}`;
    const now = new Date().toISOString();
    applications.set(id, {
      source: model ? model.id : system!.inferenceProfileId,
      summary: {
        inferenceProfileName: name,
        description: description ?? '',
        createdAt: now,
        updatedAt: now,
        inferenceProfileArn: arn,
        models: model ? [{ modelArn: modelArn(region, model.id) }] : system!.models,
        inferenceProfileId: id,
        status: 'ACTIVE',
        type: 'APPLICATION',
      },
    });
    return [201, { inferenceProfileArn: arn, status: 'ACTIVE' }];
  }

  function listProfiles(query: Record<string, string>, region: string): Answer {
    const parsed = ListProfilesQuery.safeParse(query);
    if (!parsed.success) return invalid(parsed.error, query);
    const { maxResults = 1000, nextToken, type } = parsed.data;
    const all = [
      ...(type === 'APPLICATION' ? [] : systemProfiles(region)),
      ...(type === 'SYSTEM_DEFINED' ? [] : [...applications.values()].map((a) => a.summary)),
    ];
    const start =
      nextToken === undefined ? 0 : Number.parseInt(Buffer.from(nextToken, 'base64url').toString(), 10);
    if (!Number.isInteger(start) || start < 0 || start > all.length)
      return simError('ValidationException', 'The provided nextToken is not valid.');
    const page = all.slice(start, start + maxResults);
    const next =
      start + page.length < all.length
        ? Buffer.from(String(start + page.length)).toString('base64url')
        : undefined;
    return [200, { inferenceProfileSummaries: page, ...(next ? { nextToken: next } : {}) }];
  }

  /**
   * The operation a request names, or undefined when the path is none of ours.
   * @throws URIError when a path label is not valid URL encoding
   */
  function operationOf(req: AnyRequest, url: URL, region: string): Operation | undefined {
    const jobs = deps.batch && batchOperation(req, url, region, deps.batch);
    if (jobs) return jobs;
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const label = (prefix: string): string | undefined =>
      path.startsWith(prefix) && path.length > prefix.length
        ? decodeURIComponent(path.slice(prefix.length))
        : undefined;
    const modelId = label('/foundation-models/');
    const availabilityOf = label('/foundation-model-availability/');
    const profileId = label('/inference-profiles/');

    if (method === 'GET' && path === '/foundation-models')
      return { action: 'ListFoundationModels', run: () => listModels(query, region) };
    if (method === 'GET' && modelId !== undefined)
      return {
        action: 'GetFoundationModel',
        run: () => {
          const model = modelFor(modelId);
          return model
            ? [200, { modelDetails: modelSummary(model, region) }]
            : simError('ResourceNotFoundException', NOT_FOUND.model(modelId));
        },
      };
    if (method === 'GET' && availabilityOf !== undefined)
      return {
        action: 'GetFoundationModelAvailability',
        run: () => {
          const model = modelFor(availabilityOf);
          return model
            ? [200, availability(model.id, enabled(model.id))]
            : simError('ResourceNotFoundException', NOT_FOUND.model(availabilityOf));
        },
      };
    if (path === '/inference-profiles' && method === 'GET')
      return { action: 'ListInferenceProfiles', run: () => listProfiles(query, region) };
    if (path === '/inference-profiles' && method === 'POST')
      return {
        action: 'CreateInferenceProfile',
        run: async () => {
          const body = await jsonBody(req);
          return body === undefined
            ? simError('ValidationException', 'The request body is not a JSON object.')
            : createProfile(body, region);
        },
      };
    if (profileId !== undefined && method === 'GET')
      return {
        action: 'GetInferenceProfile',
        run: () => {
          const found = applicationFor(profileId)?.summary ?? systemFor(profileId, region);
          return found ? [200, found] : simError('ResourceNotFoundException', NOT_FOUND.profile(profileId));
        },
      };
    if (profileId !== undefined && method === 'DELETE')
      return {
        action: 'DeleteInferenceProfile',
        run: () => {
          const app = applicationFor(profileId);
          if (!app) return simError('ResourceNotFoundException', NOT_FOUND.profile(profileId));
          applications.delete(app.summary.inferenceProfileId);
          return [200, {}];
        },
      };
    return undefined;
  }

  function listModels(query: Record<string, string>, region: string): Answer {
    const parsed = ListModelsQuery.safeParse(query);
    if (!parsed.success) return invalid(parsed.error, query);
    const summaries = catalog
      .list()
      .filter((m) => offered(m.id))
      .map((m) => modelSummary(m, region))
      .filter((s) => matchesFilter(s, parsed.data));
    return [200, { modelSummaries: summaries }];
  }

  const send = (reply: Reply, out: Answer): void => {
    if (Array.isArray(out)) sendJson(reply, out[0], out[1]);
    else sendError(reply, out);
  };

  return {
    handle(req, reply) {
      const url = new URL(req.url ?? '/', 'http://simulator');
      const region = signedRegion(req);
      let op: Operation | undefined;
      try {
        op = operationOf(req, url, region);
      } catch {
        sendError(
          reply,
          simError('ValidationException', `The path ${url.pathname} is not valid URL encoding.`),
        );
        return true;
      }
      if (!op) return false;
      if (options.access === 'denied') {
        sendRawError(
          reply,
          403,
          'AccessDeniedException',
          `User: arn:aws:iam::${SIM_ACCOUNT}:user/simulated is not authorized to perform: bedrock:${op.action} because no identity-based policy allows the bedrock:${op.action} action`,
        );
        return true;
      }
      const run = op.run;
      (async () => run())().then(
        (answer) => send(reply, answer),
        () => sendError(reply, simError('InternalServerException', 'Internal server error')),
      );
      return true;
    },
    target(modelId) {
      return isApplicationProfileArn(modelId) ? (applicationFor(modelId)?.source ?? modelId) : modelId;
    },
  };
}
