import {
  AccessDeniedException,
  BedrockClient,
  type BedrockClientConfig,
  BedrockServiceException,
  type FoundationModelSummary,
  GetFoundationModelAvailabilityCommand,
  type GetFoundationModelAvailabilityResponse,
  GetInferenceProfileCommand,
  type GetInferenceProfileResponse,
  ListFoundationModelsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-bedrock';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { z } from 'zod';
import { localCredentials } from './client.js';

/**
 * The `bedrock` control plane (which models exist, which the account may use, where
 * inference profiles route), through the real `@aws-sdk/client-bedrock`. Read-only: the
 * operations it calls need `bedrock:ListFoundationModels`, `bedrock:GetFoundationModelAvailability`
 * and `bedrock:GetInferenceProfile`.
 */

const BedrockControlOptionsSchema = z
  .object({
    region: z.string().min(1).describe('AWS region whose models are asked about'),
    endpoint: z
      .string()
      .optional()
      .describe('endpoint override, e.g. the simulator at http://127.0.0.1:4010 (the same as the runtime)'),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe('give up on one control-plane call after this long'),
    env: z
      .custom<Readonly<Record<string, string | undefined>>>()
      .default(() => process.env)
      .describe('where AWS credentials are looked for'),
  })
  .strict();
export type BedrockControlOptions = z.input<typeof BedrockControlOptionsSchema>;

/** Why the control plane could not answer at all. */
export type UnreachableKind = 'access_denied' | 'credentials' | 'network' | 'service';

/** The control plane did not answer a question every check starts with. */
export class ControlPlaneUnreachable extends Error {
  override readonly name = 'ControlPlaneUnreachable';
  constructor(
    readonly kind: UnreachableKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a failed control-plane call was, in one word, for messages and decisions. */
export type CallFailure = 'access_denied' | 'not_found' | 'credentials' | 'network' | 'service';

/** Classifies what a control-plane call threw, by the SDK's exception classes. */
export function callFailure(e: unknown): CallFailure {
  if (e instanceof AccessDeniedException) return 'access_denied';
  if (e instanceof ResourceNotFoundException) return 'not_found';
  if (e instanceof BedrockServiceException) return 'service';
  if (e instanceof Error && e.name === 'CredentialsProviderError') return 'credentials';
  return 'network';
}

/** A short description of a failed call: its exception name and code, never a request body. */
export function describeFailure(e: unknown): string {
  if (e instanceof BedrockServiceException) return `${e.name}: ${e.message}`;
  const code = (e as { code?: unknown }).code;
  return e instanceof Error
    ? `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message}`
    : String(e);
}

/** The control plane's client and the few questions we ask it. */
export class BedrockControlPlane {
  readonly region: string;
  private readonly client: BedrockClient;
  private closed = false;

  constructor(input: BedrockControlOptions) {
    const options = BedrockControlOptionsSchema.parse(input);
    this.region = options.region;
    const config: BedrockClientConfig = {
      region: options.region,
      // Two tries: a worker start should not hang on a control plane that does not answer.
      maxAttempts: 2,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: Math.min(options.timeoutMs, 3_000),
        requestTimeout: options.timeoutMs,
      }),
    };
    if (options.endpoint) config.endpoint = options.endpoint;
    const local = localCredentials(options.endpoint, options.env);
    if (local) config.credentials = local;
    this.client = new BedrockClient(config);
  }

  /**
   * Every foundation model offered in the region, by id.
   * @throws ControlPlaneUnreachable when the control plane does not answer (permission, network)
   */
  async foundationModels(signal?: AbortSignal): Promise<Map<string, FoundationModelSummary>> {
    try {
      const out = await this.client.send(new ListFoundationModelsCommand({}), { abortSignal: signal });
      return new Map((out.modelSummaries ?? []).flatMap((s) => (s.modelId ? [[s.modelId, s]] : [])));
    } catch (e) {
      const failure = callFailure(e);
      const kind: UnreachableKind = failure === 'not_found' ? 'service' : failure;
      const why =
        kind === 'access_denied'
          ? 'no permission for bedrock:ListFoundationModels'
          : kind === 'credentials'
            ? 'no AWS credentials'
            : `ListFoundationModels failed (${describeFailure(e)})`;
      throw new ControlPlaneUnreachable(kind, why, { cause: e });
    }
  }

  /** GetFoundationModelAvailability of a base model id. @throws the SDK's exception */
  availability(modelId: string, signal?: AbortSignal): Promise<GetFoundationModelAvailabilityResponse> {
    return this.client.send(new GetFoundationModelAvailabilityCommand({ modelId }), { abortSignal: signal });
  }

  /** GetInferenceProfile of a profile id or ARN. @throws the SDK's exception */
  inferenceProfile(idOrArn: string, signal?: AbortSignal): Promise<GetInferenceProfileResponse> {
    return this.client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: idOrArn }), {
      abortSignal: signal,
    });
  }

  /** Closes the client's sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
  }
}
