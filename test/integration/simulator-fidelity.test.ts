import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamCommandInput,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BedrockModelClient, createBedrockRuntime } from '../../src/bedrock/client.js';
import { ModelCatalog } from '../../src/models/catalog.js';
import { classifyError, isModelError, type ModelError } from '../../src/models/errors.js';
import type { ModelRequest } from '../../src/models/request.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';

/**
 * Where the simulator answers as today's Bedrock does, checked through the real AWS SDK and
 * our own client: the evidence for each answer is in docs/bedrock-wire.md.
 */

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const NOVA = 'amazon.nova-lite-v1:0';
// us-east-1 serves Llama 3.1 through its US profile only.
const LLAMA31 = 'us.meta.llama3-1-70b-instruct-v1:0';
const LARGE2 = 'mistral.mistral-large-2407-v1:0';

const catalog = new ModelCatalog();
const utf8 = new TextDecoder();
const encode = (body: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(body));
const claude = (messages: unknown, extra: Record<string, unknown> = {}) => ({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 100,
  messages,
  ...extra,
});
const user = (text: string) => ({ role: 'user' as const, content: [{ text }] });

let sim: ProfileSimulator;
let sdk: BedrockRuntimeClient;
let client: BedrockModelClient;
/** Response headers of the last call, captured below the SDK's deserializer. */
let lastHeaders: Record<string, string> = {};

beforeAll(async () => {
  sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({
      zeroLatency: true,
      jitter: 0,
      models: { [HAIKU]: { contextWindow: 200 } },
    }),
  });
  sdk = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: sim.url,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
  sdk.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      lastHeaders = (out.response as { headers: Record<string, string> }).headers;
      return out;
    },
    { step: 'deserialize', name: 'captureHeaders' },
  );
  client = new BedrockModelClient(createBedrockRuntime({ region: 'us-east-1', endpoint: sim.url, env: {} }));
});
afterAll(async () => {
  sdk.destroy();
  client.close();
  await sim.close();
});
beforeEach(() => {
  sim.admin.reset();
});

/** The error a promise rejects with; the test fails if it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const result = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(result instanceof Error)) throw new Error('expected the call to fail');
  return result;
}

/**
 * Streams a native body: the chunks that arrived and the error that ended the stream. The SDK
 * reads the first event before `send` resolves, so an exception that is the stream's first
 * event rejects `send` itself; either way it comes after HTTP 200, so the error has no status.
 */
async function stream(modelId: string, body: unknown) {
  const chunks: unknown[] = [];
  let error: (Error & { $metadata: { httpStatusCode?: number } }) | undefined;
  try {
    const out = await sdk.send(new InvokeModelWithResponseStreamCommand({ modelId, body: encode(body) }));
    for await (const event of out.body ?? []) {
      if (event.chunk?.bytes) chunks.push(JSON.parse(utf8.decode(event.chunk.bytes)));
    }
  } catch (e) {
    error = e as typeof error;
  }
  return { chunks, error };
}

/** A stream that must end in an error: its chunks and that error. */
async function refusedStream(modelId: string, body: unknown) {
  const { chunks, error } = await stream(modelId, body);
  if (!error) throw new Error('expected the stream to end in an error');
  return { chunks, error };
}

async function modelFailure(p: Promise<unknown>): Promise<ModelError> {
  const e = await rejection(p);
  if (!isModelError(e)) throw e;
  return e;
}

describe("Claude's own refusals on InvokeModelWithResponseStream", () => {
  it('arrive as the validationException event of a 200 stream, not as an HTTP 400', async () => {
    const roles = await refusedStream(
      HAIKU,
      claude([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]),
    );
    const empty = await refusedStream(HAIKU, claude([{ role: 'user', content: ' ' }]));

    expect(roles.error).toBeInstanceOf(ValidationException);
    expect(roles.error.$metadata.httpStatusCode).toBeUndefined();
    expect(roles.chunks).toEqual([]);
    expect(roles.error.message).toBe(
      'messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row',
    );
    expect(empty.error.message).toBe('messages: text content blocks must contain non-whitespace text');
  });

  it('are classified by our client as Bedrock means them: too long moves on, the rest fails the job', async () => {
    const long = await refusedStream(HAIKU, claude([{ role: 'user', content: 'queue '.repeat(400) }]));
    const roles = await refusedStream(HAIKU, claude([{ role: 'assistant', content: 'x' }]));

    const overflow = classifyError(long.error, { modelId: HAIKU });
    const invalid = classifyError(roles.error, { modelId: HAIKU });

    expect(long.error.message).toBe('Input is too long for requested model.');
    expect(long.error.$metadata.httpStatusCode).toBeUndefined();
    expect(overflow.kind).toBe('context_overflow');
    expect(overflow.retryable).toBe(false);
    expect(invalid.kind).toBe('invalid_request');
    expect(invalid.originalName).toBe('ValidationException');
  });

  it('keep Bedrock-side schema errors a 400 before any stream', async () => {
    const e = await rejection(
      sdk.send(
        new InvokeModelWithResponseStreamCommand({
          modelId: HAIKU,
          body: encode({ max_tokens: 5, messages: [] }),
        }),
      ),
    );

    expect(e).toBeInstanceOf(ValidationException);
    expect((e as ValidationException).$metadata.httpStatusCode).toBe(400);
  });

  it('can be injected mid-stream as a fault, and classify as context overflow', async () => {
    sim.admin.addFault({ model: TITAN, breakStream: { afterChunks: 1, exception: 'validation' } });

    const broken = await refusedStream(TITAN, { inputText: 'User: Tell me about queues.\nBot:' });

    expect(broken.chunks).toHaveLength(1);
    expect(broken.error).toBeInstanceOf(ValidationException);
    expect(classifyError(broken.error).kind).toBe('context_overflow');
  });
});

describe('model ids on the wire', () => {
  const body = claude([{ role: 'user', content: 'Hi' }]);

  it('refuses an id Bedrock does not know, our aliases and missing profiles with 400', async () => {
    for (const modelId of [
      'anthropic.claude-9-v1:0',
      'claude-3-haiku',
      'global.anthropic.claude-3-haiku-20240307-v1:0',
    ]) {
      const e = await rejection(sdk.send(new InvokeModelCommand({ modelId, body: encode(body) })));

      expect(e).toBeInstanceOf(ValidationException);
      expect(e.message).toBe('The provided model identifier is invalid.');
    }
    const titan = await rejection(
      sdk.send(new InvokeModelCommand({ modelId: `us.${TITAN}`, body: encode({ inputText: 'Hi' }) })),
    );
    expect(titan.message).toBe('The provided model identifier is invalid.');
  });

  it('lets our client move on from an unknown id (access_denied), yet resolve and send every alias', async () => {
    const unknown = catalog.resolve('anthropic.claude-9-v1:0')!;
    const request: ModelRequest = { messages: [{ role: 'user', content: 'Hi' }], params: { maxTokens: 20 } };

    const e = await modelFailure(client.invoke(unknown, request, { api: 'invoke' }));
    const aliased = await client.invoke(catalog.resolve('claude-3-haiku')!, request, { api: 'invoke' });

    expect(e.kind).toBe('access_denied');
    expect(e.httpStatus).toBe(400);
    expect(aliased.modelId).toBe(HAIKU);
  });

  it('counts tokens only by the base id of a model that counts', async () => {
    const input = { converse: { messages: [user('Hi')] } };

    const profile = await rejection(
      sdk.send(new CountTokensCommand({ modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', input })),
    );
    const base = await sdk.send(
      new CountTokensCommand({ modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', input }),
    );

    expect(profile.message).toBe("The provided model doesn't support counting tokens.");
    expect(base.inputTokens).toBeGreaterThan(0);
  });
});

describe('Mistral Large 2 (chat body only)', () => {
  it('answers the chat body in choices and refuses the prompt body', async () => {
    const out = await sdk.send(
      new InvokeModelCommand({
        modelId: LARGE2,
        body: encode({ messages: [{ role: 'user', content: 'What is a queue?' }], max_tokens: 50 }),
      }),
    );
    const prompt = await rejection(
      sdk.send(new InvokeModelCommand({ modelId: LARGE2, body: encode({ prompt: '<s>[INST] Hi [/INST]' }) })),
    );

    expect(JSON.parse(utf8.decode(out.body))).toMatchObject({
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: expect.any(String) },
          stop_reason: expect.stringMatching(/^(stop|length)$/),
        },
      ],
    });
    expect(prompt.message).toBe(
      'Malformed input request: #: required key [messages] not found, please reformat your input and try again.',
    );
  });

  it('is served through our client, natively and through Converse', async () => {
    const model = catalog.resolve('mistral-large-2')!;
    const request: ModelRequest = {
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'What is a queue?' }],
      params: { maxTokens: 60, stopSequences: ['END'] },
    };

    for (const api of ['invoke', 'converse'] as const) {
      const reply = await client.invoke(model, request, { api });

      expect(reply.text.length).toBeGreaterThan(0);
      expect(reply.stopReason).toBe('end_turn');
      expect(reply.usage.inputTokens).toBeGreaterThan(0);
    }
  });
});

describe('Nova', () => {
  it('takes up to 10,000 output tokens and reports the unused prompt cache in headers', async () => {
    const body = { messages: [user('Hi')], inferenceConfig: { max_new_tokens: 8_000 } };

    const out = await sdk.send(new InvokeModelCommand({ modelId: NOVA, body: encode(body) }));

    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(lastHeaders['x-amzn-bedrock-cache-read-input-token-count']).toBe('0');
    expect(lastHeaders['x-amzn-bedrock-cache-write-input-token-count']).toBe('0');
  });
});

describe('Nova streams', () => {
  it('make each text delta a content block of its own and count the prompt cache in the metrics', async () => {
    const body = { messages: [user('Tell me how a job queue spreads work over many workers.')] };

    const { chunks, error } = await stream(NOVA, body);

    expect(error).toBeUndefined();
    const indexes = chunks.flatMap((c) => {
      const chunk = c as { contentBlockDelta?: { contentBlockIndex: number } };
      return chunk.contentBlockDelta ? [chunk.contentBlockDelta.contentBlockIndex] : [];
    });
    expect(indexes.length).toBeGreaterThan(1);
    expect(indexes).toEqual(indexes.map((_, i) => i));
    expect(chunks.at(-1)).toMatchObject({
      'amazon-bedrock-invocationMetrics': { cacheReadInputTokenCount: 0, cacheWriteInputTokenCount: 0 },
    });
  });
});

describe('Converse refuses what the model does not take', () => {
  const converse = (modelId: string, extra: Record<string, unknown> = {}) =>
    rejection(sdk.send(new ConverseCommand({ modelId, messages: [user('Hi')], ...extra })));

  it('a system prompt for Titan Text, which our client folds into the first turn instead', async () => {
    const e = await converse(TITAN, { system: [{ text: 'Be brief.' }] });
    const reply = await client.invoke(
      catalog.resolve(TITAN)!,
      { system: 'Be brief.', messages: [{ role: 'user', content: 'What is a queue?' }] },
      { api: 'converse' },
    );

    expect(e).toBeInstanceOf(ValidationException);
    expect(e.message).toBe(
      "This model doesn't support system messages. Try again without a system message or use a model that supports system messages.",
    );
    expect(reply.text.length).toBeGreaterThan(0);
  });

  it('tools, tool choices and native fields the model lacks', async () => {
    const toolConfig = { tools: [{ toolSpec: { name: 'calc', inputSchema: { json: { type: 'object' } } } }] };

    const titanTools = await converse(TITAN, { toolConfig });
    const anyTool = await converse(LLAMA31, { toolConfig: { ...toolConfig, toolChoice: { any: {} } } });
    const topK = await converse(LLAMA31, { additionalModelRequestFields: { top_k: 5 } });
    const streamed = await rejection(
      sdk.send(
        new ConverseStreamCommand({
          modelId: LLAMA31,
          messages: [user('Hi')],
          toolConfig,
        } as ConverseStreamCommandInput),
      ),
    );

    expect(titanTools.message).toBe("This model doesn't support tool use.");
    expect(anyTool.message).toBe(
      "This model doesn't support the toolConfig.toolChoice.any field. Remove toolConfig.toolChoice.any and try again.",
    );
    expect(topK.message).toBe(
      'Malformed input request: #: extraneous key [top_k] is not permitted, please reformat your input and try again.',
    );
    expect(streamed.message).toBe("This model doesn't support tool use in streaming mode.");
  });

  it('a blank text block, naming where it is', async () => {
    const e = await converse(NOVA, {
      messages: [user('Hi'), { role: 'assistant', content: [{ text: ' ' }] }, user('x')],
    });

    expect(e.message).toBe(
      'The text field in the ContentBlock object at messages.1.content.0 is blank. Add text to the text field, and try again.',
    );
  });
});
