import {
  AccessDeniedException,
  type BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ModelErrorException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import {
  type FaultDecision,
  type RunningSimulator,
  simError,
  startSimulator,
} from '../../src/simulator/index.js';
import { sdkClient, type TestControl, type TestControlOptions, testControl } from './simulator-fixtures.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const NOVA = 'amazon.nova-micro-v1:0';
const LLAMA = 'us.meta.llama3-1-8b-instruct-v1:0';
const MISTRAL = 'mistral.mistral-7b-instruct-v0:2';
const COHERE = 'cohere.command-r-v1:0';

const CLAUDE_BODY = {
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 200,
  messages: [{ role: 'user', content: 'Describe a queue in three sentences.' }],
};
const utf8 = new TextDecoder();
const encode = (body: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(body));

let sim: RunningSimulator | undefined;
let client: BedrockRuntimeClient | undefined;

afterEach(async () => {
  client?.destroy();
  await sim?.close();
  sim = undefined;
  client = undefined;
});

async function start(
  options: TestControlOptions = {},
  clock?: ManualClock,
): Promise<{ control: TestControl; c: BedrockRuntimeClient }> {
  const control = testControl(options);
  sim = await startSimulator({ control, ...(clock ? { clock } : {}) });
  client = sdkClient(sim.url);
  return { control, c: client };
}

/** The error a call rejects with (the test fails if it resolves). */
async function failure(call: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number } }> {
  const result = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(result instanceof Error)) throw new Error('the call succeeded but an error was expected');
  return result as Error & { $metadata: { httpStatusCode?: number } };
}

/** Resolves when the next call reaches the control (the simulator has read and checked it). */
function arrival(control: TestControl): Promise<void> {
  return new Promise((resolve) => {
    const admit = control.admit.bind(control);
    control.admit = (ctx) => {
      control.admit = admit;
      resolve();
      return admit(ctx);
    };
  });
}

const invoke = (c: BedrockRuntimeClient, modelId: string, body: unknown, abortSignal?: AbortSignal) =>
  c.send(new InvokeModelCommand({ modelId, body: encode(body) }), abortSignal ? { abortSignal } : {});

async function drain(c: BedrockRuntimeClient, modelId: string, body: unknown): Promise<unknown[]> {
  const out = await c.send(new InvokeModelWithResponseStreamCommand({ modelId, body: encode(body) }));
  const chunks: unknown[] = [];
  for await (const event of out.body ?? []) {
    if (event.chunk?.bytes) chunks.push(JSON.parse(utf8.decode(event.chunk.bytes)));
  }
  return chunks;
}

describe('native body validation', () => {
  it('refuses a Claude body sent to Titan naming the missing key', async () => {
    const { c } = await start();

    const e = await failure(invoke(c, TITAN, CLAUDE_BODY));

    expect(e).toBeInstanceOf(ValidationException);
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.message).toBe(
      'Malformed input request: #: required key [inputText] not found, please reformat your input and try again.',
    );
  });

  it('refuses extraneous keys, out-of-range parameters and non-JSON bodies', async () => {
    const { c } = await start();

    const extra = await failure(invoke(c, LLAMA, { prompt: 'Hi', max_tokens: 10 }));
    const range = await failure(invoke(c, MISTRAL, { prompt: '<s>[INST] Hi [/INST]', temperature: 1.5 }));
    const nested = await failure(
      invoke(c, TITAN, { inputText: 'Hi', textGenerationConfig: { maxTokenCount: 100_000 } }),
    );
    const notJson = await failure(
      c.send(new InvokeModelCommand({ modelId: NOVA, body: encode('x').slice(1, 2) })),
    );

    expect(extra.message).toContain('#: extraneous key [max_tokens] is not permitted');
    expect(range.message).toBe(
      'Malformed input request: #/temperature: 1.5 is not less or equal to 1, please reformat your input and try again.',
    );
    expect(nested.message).toContain(
      '#/textGenerationConfig/maxTokenCount: 100000 is not less or equal to 8192',
    );
    expect(notJson).toBeInstanceOf(ValidationException);
    expect(notJson.message).toMatch(/^Malformed input request: /);
  });

  it("answers Claude's own errors for stream in the body, non-alternating roles and max_tokens", async () => {
    const { c } = await start();

    const stream = await failure(invoke(c, HAIKU, { ...CLAUDE_BODY, stream: true }));
    const roles = await failure(
      invoke(c, HAIKU, {
        ...CLAUDE_BODY,
        messages: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
        ],
      }),
    );
    const first = await failure(
      invoke(c, HAIKU, { ...CLAUDE_BODY, messages: [{ role: 'assistant', content: 'a' }] }),
    );
    const max = await failure(invoke(c, HAIKU, { ...CLAUDE_BODY, max_tokens: 10_000 }));
    const version = await failure(invoke(c, HAIKU, { max_tokens: 10, messages: CLAUDE_BODY.messages }));

    expect(stream.message).toContain('#: extraneous key [stream] is not permitted');
    expect(roles.message).toBe(
      'messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row',
    );
    expect(first.message).toBe('messages: first message must use the "user" role');
    expect(max.message).toBe(
      'max_tokens: 10000 > 4096, which is the maximum allowed number of output tokens for claude-3-haiku-20240307',
    );
    expect(version.message).toContain('#: required key [anthropic_version] not found');
  });

  it('refuses an empty or non-alternating Converse conversation', async () => {
    const { c } = await start();

    const empty = await failure(c.send(new ConverseCommand({ modelId: NOVA, messages: [] })));
    const twice = await failure(
      c.send(
        new ConverseCommand({
          modelId: NOVA,
          messages: [
            { role: 'user', content: [{ text: 'a' }] },
            { role: 'user', content: [{ text: 'b' }] },
          ],
        }),
      ),
    );
    const hot = await failure(
      c.send(
        new ConverseCommand({
          modelId: NOVA,
          messages: [{ role: 'user', content: [{ text: 'a' }] }],
          inferenceConfig: { temperature: 2 },
        }),
      ),
    );

    expect(empty).toBeInstanceOf(ValidationException);
    expect(twice).toBeInstanceOf(ValidationException);
    expect(twice.message).toMatch(/must alternate between user and assistant roles/);
    expect(hot.message).toBe(
      "1 validation error detected: Value '2' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1",
    );
  });
});

describe('models', () => {
  it('answers 400 The provided model identifier is invalid. for a model it does not know', async () => {
    const { c } = await start();

    const e = await failure(invoke(c, 'acme.unknown-model-v1:0', CLAUDE_BODY));

    expect(e).toBeInstanceOf(ValidationException);
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.message).toBe('The provided model identifier is invalid.');
  });

  it('answers ResourceNotFoundException for a model the profile marks not offered', async () => {
    const { c } = await start({ models: { [HAIKU]: { available: false } } });

    const e = await failure(invoke(c, HAIKU, CLAUDE_BODY));

    expect(e).toBeInstanceOf(ResourceNotFoundException);
    expect(e.$metadata.httpStatusCode).toBe(404);
    expect(e.message).toBe('Could not resolve the foundation model from the provided model identifier.');
  });

  it('answers AccessDeniedException for a model that is not enabled', async () => {
    const { c } = await start({ models: { [HAIKU]: { enabled: false } } });

    const e = await failure(invoke(c, HAIKU, CLAUDE_BODY));

    expect(e).toBeInstanceOf(AccessDeniedException);
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect(e.message).toBe("You don't have access to the model with the specified model ID.");
  });

  it('refuses on-demand calls of a profile-only model by its base id', async () => {
    const { c } = await start();

    const e = await failure(invoke(c, 'anthropic.claude-3-7-sonnet-20250219-v1:0', CLAUDE_BODY));

    expect(e).toBeInstanceOf(ValidationException);
    expect(e.message).toBe(
      "Invocation of model ID anthropic.claude-3-7-sonnet-20250219-v1:0 with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
    );
  });

  it("refuses a prompt longer than the context window in the family's words", async () => {
    const { c } = await start({ models: { [HAIKU]: { contextWindow: 100 } } });
    const long = 'A queue holds jobs until a worker is free to take them. '.repeat(60);

    const titan = await failure(invoke(c, 'amazon.titan-text-lite-v1', { inputText: long.repeat(5) }));
    const claude = await failure(
      invoke(c, HAIKU, { ...CLAUDE_BODY, messages: [{ role: 'user', content: long }] }),
    );
    const converse = await failure(
      c.send(
        new ConverseCommand({ modelId: HAIKU, messages: [{ role: 'user', content: [{ text: long }] }] }),
      ),
    );

    expect(titan.message).toMatch(
      /^400 Bad Request: Too many input tokens\. Max input tokens: 4096, request input token count: \d+ $/,
    );
    expect(claude.message).toBe('Input is too long for requested model.');
    expect(converse.message).toBe(
      'The model returned the following errors: Input is too long for requested model.',
    );
  });
});

describe('the control seam', () => {
  it('answers ThrottlingException 429 with retry-after when admission is refused', async () => {
    const { c, control } = await start({
      admit: () => ({
        ok: false,
        error: {
          ...simError('ThrottlingException', 'Too many tokens, please wait before trying again.'),
          retryAfterSeconds: 2,
        },
      }),
    });

    const e = await failure(invoke(c, HAIKU, CLAUDE_BODY));

    expect(e).toBeInstanceOf(ThrottlingException);
    expect(e.$metadata.httpStatusCode).toBe(429);
    expect(e.message).toBe('Too many tokens, please wait before trying again.');
    expect((e as { $response?: { headers: Record<string, string> } }).$response?.headers['retry-after']).toBe(
      '2',
    );
    expect(control.records.at(-1)?.outcome).toBe('throttled');
  });

  it('answers the errors a fault decides as the SDK exception classes', async () => {
    let next: FaultDecision = { type: 'none' };
    const { c, control } = await start({ fault: () => next });

    next = { type: 'error', error: simError('ServiceUnavailableException', 'Service Unavailable.') };
    const unavailable = await failure(invoke(c, HAIKU, CLAUDE_BODY));
    next = { type: 'error', error: simError('ModelTimeoutException', 'Model has timed out.') };
    const timeout = await failure(invoke(c, HAIKU, CLAUDE_BODY));
    next = {
      type: 'error',
      error: simError('ModelErrorException', 'The model returned the following errors: boom', {
        originalStatusCode: 500,
        resourceName: HAIKU,
      }),
    };
    const modelError = await failure(
      c.send(new ConverseCommand({ modelId: HAIKU, messages: [{ role: 'user', content: [{ text: 'x' }] }] })),
    );

    expect(unavailable).toBeInstanceOf(ServiceUnavailableException);
    expect(unavailable.$metadata.httpStatusCode).toBe(503);
    expect(timeout).toBeInstanceOf(ModelTimeoutException);
    expect(timeout.$metadata.httpStatusCode).toBe(408);
    expect(modelError).toBeInstanceOf(ModelErrorException);
    expect(modelError.$metadata.httpStatusCode).toBe(424);
    expect((modelError as ModelErrorException).originalStatusCode).toBe(500);
    expect(control.records.map((r) => r.outcome)).toEqual(['fault', 'fault', 'fault']);
  });

  it('breaks an invoke stream after N chunks with ModelStreamErrorException', async () => {
    const exception = simError('ModelStreamErrorException', 'The model stream was interrupted.', {
      originalStatusCode: 500,
      originalMessage: 'boom',
    });
    const { c } = await start({ fault: () => ({ type: 'break_stream', afterChunks: 3, exception }) });
    const chunks: unknown[] = [];

    const e = await failure(
      (async () => {
        const out = await c.send(
          new InvokeModelWithResponseStreamCommand({ modelId: HAIKU, body: encode(CLAUDE_BODY) }),
        );
        for await (const event of out.body ?? []) chunks.push(event.chunk);
      })(),
    );

    expect(e).toBeInstanceOf(ModelStreamErrorException);
    expect(e.message).toBe('The model stream was interrupted.');
    expect((e as ModelStreamErrorException).originalStatusCode).toBe(500);
    expect(chunks).toHaveLength(3);
  });

  it('breaks a Converse stream with the exception the fault names', async () => {
    const exception = simError('ThrottlingException', 'Too many tokens, please wait before trying again.');
    const { c } = await start({ fault: () => ({ type: 'break_stream', afterChunks: 1, exception }) });
    const events: unknown[] = [];

    const e = await failure(
      (async () => {
        const out = await c.send(
          new ConverseStreamCommand({
            modelId: NOVA,
            messages: [{ role: 'user', content: [{ text: 'x' }] }],
          }),
        );
        for await (const event of out.stream ?? []) events.push(event);
      })(),
    );

    expect(e).toBeInstanceOf(ThrottlingException);
    expect(events).toEqual([{ messageStart: { role: 'assistant' } }]);
  });

  it('carries an exception the Converse stream does not model as ModelStreamErrorException', async () => {
    const exception = simError('ModelTimeoutException', 'Model has timed out in processing the request.');
    const { c } = await start({ fault: () => ({ type: 'break_stream', afterChunks: 2, exception }) });

    const e = await failure(
      (async () => {
        const out = await c.send(
          new ConverseStreamCommand({
            modelId: NOVA,
            messages: [{ role: 'user', content: [{ text: 'x' }] }],
          }),
        );
        for await (const _ of out.stream ?? []);
      })(),
    );

    expect(e).toBeInstanceOf(ModelStreamErrorException);
    expect(e).toMatchObject({ originalStatusCode: 408, originalMessage: exception.message });
  });

  it('slows a stream by the fault factor', async () => {
    const clock = new ManualClock(0);
    const { c } = await start(
      {
        latency: () => ({ firstTokenMs: 0, perTokenMs: 0.2 }),
        fault: () => ({ type: 'slow_stream', factor: 10 }),
      },
      clock,
    );

    const chunks = await clock.drive(drain(c, HAIKU, CLAUDE_BODY));

    const last = chunks.at(-1) as Record<string, { outputTokenCount: number; invocationLatency: number }>;
    const metrics = last['amazon-bedrock-invocationMetrics']!;
    expect(metrics.invocationLatency).toBe(Math.round(0.2 * 10 * metrics.outputTokenCount));
  });

  it("answers content filtered in each family's own way", async () => {
    const { c } = await start({ fault: () => ({ type: 'content_filter' }) });
    const read = async (modelId: string, body: unknown) =>
      JSON.parse(utf8.decode((await invoke(c, modelId, body)).body)) as Record<string, unknown>;

    const titan = await read(TITAN, { inputText: 'x' });
    const nova = await read(NOVA, { messages: [{ role: 'user', content: [{ text: 'x' }] }] });
    const claude = await read(HAIKU, CLAUDE_BODY);
    const cohere = await read(COHERE, { message: 'x' });
    const llama = await read(LLAMA, { prompt: 'x' });
    const mistral = await read(MISTRAL, { prompt: '[INST] x [/INST]' });
    const converse = await c.send(
      new ConverseCommand({ modelId: LLAMA, messages: [{ role: 'user', content: [{ text: 'x' }] }] }),
    );

    expect(titan).toMatchObject({
      results: [{ completionReason: 'CONTENT_FILTERED', outputText: '', tokenCount: 0 }],
    });
    expect(nova.stopReason).toBe('content_filtered');
    expect(claude).toMatchObject({ stop_reason: 'refusal', content: [{ type: 'text', text: '' }] });
    expect(cohere.finish_reason).toBe('ERROR_TOXIC');
    expect(llama).toMatchObject({ generation: '', stop_reason: 'stop', generation_token_count: 0 });
    expect(mistral).toMatchObject({ outputs: [{ text: '', stop_reason: 'stop' }] });
    expect(converse.stopReason).toBe('content_filtered');
  });

  it('keeps a hung call open until the client aborts, then frees and records it', async () => {
    const { c, control } = await start({ fault: () => ({ type: 'hang' }) });
    const abort = new AbortController();
    const arrived = arrival(control);
    const call = failure(invoke(c, HAIKU, CLAUDE_BODY, abort.signal));
    const recorded = control.nextRecord();
    await arrived;

    abort.abort();

    expect((await call).name).toBe('AbortError');
    expect((await recorded).outcome).toBe('fault');
    expect(control.settled.at(-1)?.actualTokens).toBe(0);
  });

  it('releases hung calls when the simulator closes', async () => {
    const { c, control } = await start({ fault: () => ({ type: 'hang' }) });
    const arrived = arrival(control);
    const call = failure(invoke(c, HAIKU, CLAUDE_BODY));
    await arrived;

    await sim?.close();

    expect(await call).toBeInstanceOf(Error);
    expect(control.records.at(-1)?.outcome).toBe('fault');
  });

  it('answers normally after a hang with afterMs', async () => {
    const clock = new ManualClock(0);
    const { c, control } = await start({ fault: () => ({ type: 'hang', afterMs: 5 }) }, clock);

    const out = await clock.drive(invoke(c, HAIKU, CLAUDE_BODY));

    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(control.records.at(-1)?.outcome).toBe('ok');
    expect(clock.now()).toBe(5);
  });

  it('waits the first-token time plus per-token pacing before answering', async () => {
    // The simulator sleeps on a clock that moves only as far as its waits ask: the latencies it
    // reports are then exact, however slowly the calls run on this machine.
    const clock = new ManualClock(0);
    const { c } = await start({ latency: () => ({ firstTokenMs: 40, perTokenMs: 0.5 }) }, clock);

    const out = await clock.drive(invoke(c, HAIKU, CLAUDE_BODY));
    const answeredAt = clock.now();
    const body = JSON.parse(utf8.decode(out.body)) as { usage: { output_tokens: number } };
    const streamStartedAt = clock.now();
    const chunks = await clock.drive(drain(c, HAIKU, CLAUDE_BODY));

    const metrics = (
      chunks.at(-1) as Record<string, { firstByteLatency: number; invocationLatency: number }>
    )['amazon-bedrock-invocationMetrics'];
    expect(answeredAt).toBe(40 + 0.5 * body.usage.output_tokens);
    expect(metrics?.firstByteLatency).toBe(40);
    expect(metrics?.invocationLatency).toBe(Math.round(40 + 0.5 * body.usage.output_tokens));
    expect(clock.now() - streamStartedAt).toBeCloseTo(40 + 0.5 * body.usage.output_tokens, 6);
  });
});
