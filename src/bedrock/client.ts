import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import {
  BedrockRuntimeClient,
  type BedrockRuntimeClientConfig,
  ConverseCommand,
  InvokeModelCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { z } from 'zod';
import { apiFor, type ResolvedModel } from '../models/catalog.js';
import { fromConverseOutput, toConverseInput } from '../models/converse.js';
import { classifyError, contentFiltered } from '../models/errors.js';
import { adapterFor } from '../models/families/index.js';
import {
  isNativeFamily,
  type ModelReply,
  type ModelRequest,
  type NativeReply,
  USAGE_HEADERS,
  type Usage,
} from '../models/request.js';
import { CallAborted, type InvokeOptions, type ModelClient } from './types.js';

/**
 * How the SDK client connects. Calls in flight per connection are `maxSockets` (http1) or
 * `maxStreamsPerSession` (h2); size them to the worker's concurrency.
 */
const BedrockRuntimeOptionsSchema = z
  .object({
    region: z.string().describe('AWS region of Bedrock Runtime'),
    endpoint: z
      .string()
      .optional()
      .describe('endpoint override, e.g. the simulator at http://127.0.0.1:4010'),
    // The SDK's HTTP/2 handler for this service isolates every call in a session of its own: a
    // new connection (against AWS, a TLS handshake) per call. Keep-alive sockets are reused, and
    // one whose call was aborted is destroyed rather than handed to the next call.
    httpVersion: z
      .enum(['h2', 'http1'])
      .default('http1')
      .describe(
        "http1 uses keep-alive HTTP/1.1 sockets, reused across calls; h2 keeps the SDK's HTTP/2 handler (cleartext with prior knowledge for http:// endpoints), one session per call unless maxStreamsPerSession is set",
      ),
    maxSockets: z
      .number()
      .int()
      .positive()
      .default(256)
      .describe('http1: keep-alive sockets per origin, one call each'),
    maxStreamsPerSession: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('h2: streams per pooled session; unset, the SDK opens one session per call'),
    env: z
      .custom<Readonly<Record<string, string | undefined>>>()
      .default(() => process.env)
      .describe('where AWS credentials are looked for'),
  })
  .strict();
/** Options of {@link createBedrockRuntime}; only `region` is required. */
export type BedrockRuntimeOptions = z.input<typeof BedrockRuntimeOptionsSchema>;

/** Usage headers of each InvokeModel answer, keyed by the SDK's output object. */
const headersByOutput = new WeakMap<object, Record<string, string>>();

/** Whether the environment names AWS credentials (else, with an endpoint override, placeholders are used). */
export function hasAwsCredentials(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(
    env.AWS_ACCESS_KEY_ID ||
      env.AWS_PROFILE ||
      env.AWS_WEB_IDENTITY_TOKEN_FILE ||
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
      env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
}

/**
 * Placeholder credentials for an endpoint override (the simulator) when the environment names
 * none, so a local run needs no AWS account; undefined otherwise (the SDK's own chain decides).
 */
export function localCredentials(
  endpoint: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { accessKeyId: string; secretAccessKey: string } | undefined {
  if (!endpoint || hasAwsCredentials(env)) return undefined;
  return { accessKeyId: 'bedrock-jobs-local', secretAccessKey: 'bedrock-jobs-local' };
}

function requestHandlerFor(
  options: z.output<typeof BedrockRuntimeOptionsSchema>,
): BedrockRuntimeClientConfig['requestHandler'] {
  if (options.httpVersion === 'http1') {
    return new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: options.maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: options.maxSockets }),
    });
  }
  return options.maxStreamsPerSession === undefined
    ? undefined // the SDK's own NodeHttp2Handler
    : new NodeHttp2Handler({ maxConcurrentStreams: options.maxStreamsPerSession });
}

/**
 * The process's BedrockRuntimeClient: create it once at start and share it, since it owns the
 * connections (close it with {@link BedrockModelClient.close} or `destroy()`). SDK retries are
 * off (`maxAttempts: 1`): our policy retries with knowledge of the whole chain. With an
 * endpoint override and no AWS credentials in the environment, static placeholder credentials
 * are used so the simulator works without any AWS setup (it accepts any signature).
 */
export function createBedrockRuntime(input: BedrockRuntimeOptions): BedrockRuntimeClient {
  const options = BedrockRuntimeOptionsSchema.parse(input);
  const { env } = options;
  const config: BedrockRuntimeClientConfig = { region: options.region, maxAttempts: 1 };
  if (options.endpoint) config.endpoint = options.endpoint;
  const local = localCredentials(options.endpoint, env);
  if (local) config.credentials = local;
  const handler = requestHandlerFor(options);
  if (handler) config.requestHandler = handler;
  const client = new BedrockRuntimeClient(config);
  // Token counts of InvokeModel answers come only in response headers, which the command output
  // does not carry. A middleware at the initialize step (outermost) sees the finished result:
  // the parsed output and the raw HTTP response beside it. Keying a WeakMap by the output
  // object hands the headers to `invoke` without changing the output or leaking memory.
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { headers?: Record<string, string> } | undefined;
      if (response?.headers && typeof result.output === 'object' && result.output !== null) {
        headersByOutput.set(result.output, response.headers);
      }
      return result;
    },
    { step: 'initialize', name: 'bedrockJobsUsageHeaders' },
  );
  return client;
}

function usageFromHeaders(headers: Record<string, string> | undefined): Usage | undefined {
  const input = Number(headers?.[USAGE_HEADERS.inputTokens]);
  const output = Number(headers?.[USAGE_HEADERS.outputTokens]);
  return Number.isFinite(input) &&
    Number.isFinite(output) &&
    headers?.[USAGE_HEADERS.inputTokens] !== undefined
    ? { inputTokens: input, outputTokens: output }
    : undefined;
}

const decoder = new TextDecoder();

/** The Bedrock implementation of the {@link ModelClient} port. */
export class BedrockModelClient implements ModelClient {
  private closed = false;

  /** Takes ownership of `sdk`: {@link close} destroys it. */
  constructor(private readonly sdk: BedrockRuntimeClient) {}

  /** Destroys the SDK client and its HTTP/2 sessions or keep-alive sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sdk.destroy();
  }

  /**
   * Calls one model once, native (`invoke`) or through Converse; a model we serve through
   * Converse only (no native adapter for its family) always goes through Converse. Usage is Bedrock's metered
   * count from the `X-Amzn-Bedrock-*-Token-Count` headers (InvokeModel), else the body's own.
   * @throws ModelError, classified; a content-filtered answer is thrown as `content_filtered`.
   */
  async invoke(model: ResolvedModel, request: ModelRequest, options: InvokeOptions): Promise<ModelReply> {
    const started = performance.now();
    let reply: NativeReply;
    let requestId: string | undefined;
    let headerUsage: Usage | undefined;
    try {
      // isNativeFamily is implied by apiFor; it narrows the family for adapterFor.
      if (apiFor(model, options.api) === 'converse' || !isNativeFamily(model.family)) {
        const input = toConverseInput(model.requestId, request, model.info);
        const out = await this.sdk.send(new ConverseCommand(input), { abortSignal: options.signal });
        reply = fromConverseOutput(out);
        requestId = out.$metadata.requestId;
      } else {
        const adapter = adapterFor(model.family);
        const body = JSON.stringify(adapter.toNative(request, model.info));
        const out = await this.sdk.send(
          new InvokeModelCommand({
            modelId: model.requestId,
            body,
            contentType: 'application/json',
            accept: 'application/json',
          }),
          { abortSignal: options.signal },
        );
        reply = adapter.fromNative(JSON.parse(decoder.decode(out.body)));
        requestId = out.$metadata.requestId;
        headerUsage = usageFromHeaders(headersByOutput.get(out));
      }
    } catch (e) {
      const reason: unknown = options.signal?.aborted ? options.signal.reason : undefined;
      const aborted =
        reason instanceof CallAborted ? reason.why : options.signal?.aborted ? 'timeout' : undefined;
      throw classifyError(e, { modelId: model.requestId, ...(aborted ? { aborted } : {}) });
    }
    if (reply.stopReason === 'content_filtered') throw contentFiltered(model.requestId);
    return {
      text: reply.text,
      stopReason: reply.stopReason,
      usage: headerUsage ?? reply.usage ?? { inputTokens: 0, outputTokens: 0 },
      modelId: model.requestId,
      latencyMs: Math.round(performance.now() - started),
      ...(requestId ? { requestId } : {}),
    };
  }
}
