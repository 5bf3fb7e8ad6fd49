import {
  type BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeFamily } from '../../src/models/request.js';
import { estimateTokens } from '../../src/models/tokens.js';
import { type RunningSimulator, startSimulator } from '../../src/simulator/index.js';
import { sdkClient, type TestControl, testControl } from './simulator-fixtures.js';

const QUESTION = 'Tell me how a job queue spreads work over many workers.';
type Json = Record<string, unknown>;

interface FamilyCase {
  /** What the case is called in the test names. */
  name: string;
  family: NativeFamily;
  model: string;
  body: Json;
  /** The answer text and token counts the family's native response carries. */
  read(response: Json): { text: string; stop: unknown; inputTokens?: number; outputTokens?: number };
  /** The answer text of one native stream chunk. */
  chunkText(chunk: Json): string;
}

const at = (v: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((o, k) => (o as Record<string | number, unknown> | undefined)?.[k], v);

const CASES: FamilyCase[] = [
  {
    name: 'anthropic',
    family: 'anthropic',
    model: 'anthropic.claude-3-haiku-20240307-v1:0',
    body: {
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 300,
      system: 'Answer briefly.',
      messages: [{ role: 'user', content: QUESTION }],
    },
    read: (r) => ({
      text: String(at(r, 'content', 0, 'text')),
      stop: r.stop_reason,
      inputTokens: at(r, 'usage', 'input_tokens') as number,
      outputTokens: at(r, 'usage', 'output_tokens') as number,
    }),
    chunkText: (c) => (c.type === 'content_block_delta' ? String(at(c, 'delta', 'text')) : ''),
  },
  {
    name: 'titan',
    family: 'titan',
    model: 'amazon.titan-text-express-v1',
    body: {
      inputText: `User: ${QUESTION}\nBot:`,
      textGenerationConfig: { maxTokenCount: 300, temperature: 0.5 },
    },
    read: (r) => ({
      text: String(at(r, 'results', 0, 'outputText')),
      stop: at(r, 'results', 0, 'completionReason'),
      inputTokens: r.inputTextTokenCount as number,
      outputTokens: at(r, 'results', 0, 'tokenCount') as number,
    }),
    chunkText: (c) => String(c.outputText ?? ''),
  },
  {
    name: 'nova',
    family: 'nova',
    model: 'amazon.nova-lite-v1:0',
    body: {
      schemaVersion: 'messages-v1',
      system: [{ text: 'Answer briefly.' }],
      messages: [{ role: 'user', content: [{ text: QUESTION }] }],
      inferenceConfig: { max_new_tokens: 300 },
    },
    read: (r) => ({
      text: String(at(r, 'output', 'message', 'content', 0, 'text')),
      stop: r.stopReason,
      inputTokens: at(r, 'usage', 'inputTokens') as number,
      outputTokens: at(r, 'usage', 'outputTokens') as number,
    }),
    chunkText: (c) => String(at(c, 'contentBlockDelta', 'delta', 'text') ?? ''),
  },
  {
    name: 'llama',
    family: 'llama',
    // us-east-1 serves Llama 3.1 through its US profile only.
    model: 'us.meta.llama3-1-8b-instruct-v1:0',
    body: {
      prompt: `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nAnswer briefly.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n${QUESTION}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
      max_gen_len: 300,
      temperature: 0.5,
    },
    read: (r) => ({
      text: String(r.generation),
      stop: r.stop_reason,
      inputTokens: r.prompt_token_count as number,
      outputTokens: r.generation_token_count as number,
    }),
    chunkText: (c) => String(c.generation ?? ''),
  },
  {
    name: 'mistral',
    family: 'mistral',
    model: 'mistral.mistral-7b-instruct-v0:2',
    body: { prompt: `<s>[INST] ${QUESTION} [/INST]`, max_tokens: 300, top_k: 50 },
    read: (r) => ({ text: String(at(r, 'outputs', 0, 'text')), stop: at(r, 'outputs', 0, 'stop_reason') }),
    chunkText: (c) => String(at(c, 'outputs', 0, 'text') ?? ''),
  },
  {
    name: 'mistral chat (Large 2)',
    family: 'mistral',
    model: 'mistral.mistral-large-2407-v1:0',
    body: {
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: QUESTION },
      ],
      max_tokens: 300,
    },
    read: (r) => ({
      text: String(at(r, 'choices', 0, 'message', 'content')),
      stop: at(r, 'choices', 0, 'stop_reason'),
    }),
    chunkText: (c) => String(at(c, 'choices', 0, 'message', 'content') ?? ''),
  },
  {
    name: 'cohere',
    family: 'cohere',
    model: 'cohere.command-r-v1:0',
    body: { message: QUESTION, preamble: 'Answer briefly.', max_tokens: 300 },
    // Usage is in the headers only: the non-streaming body has no `meta`.
    read: (r) => ({ text: String(r.text), stop: r.finish_reason }),
    chunkText: (c) => (c.event_type === 'text-generation' ? String(c.text) : ''),
  },
];

const END_STOP: Readonly<Record<NativeFamily, string>> = {
  anthropic: 'end_turn',
  titan: 'FINISH',
  nova: 'end_turn',
  llama: 'stop',
  mistral: 'stop',
  cohere: 'COMPLETE',
};

const utf8 = new TextDecoder();
const encode = (body: Json): Uint8Array => new TextEncoder().encode(JSON.stringify(body));

let sim: RunningSimulator;
let client: BedrockRuntimeClient;
let control: TestControl;
/** Response headers of the last call, captured below the SDK's deserializer. */
let lastHeaders: Record<string, string> = {};

beforeAll(async () => {
  control = testControl();
  sim = await startSimulator({ control, seed: 42 });
  client = sdkClient(sim.url);
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      lastHeaders = (out.response as { headers: Record<string, string> }).headers;
      return out;
    },
    { step: 'deserialize', name: 'captureHeaders' },
  );
});

afterAll(async () => {
  client.destroy();
  await sim.close();
});

async function invoke(modelId: string, body: Json): Promise<Json> {
  const out = await client.send(
    new InvokeModelCommand({ modelId, body: encode(body), contentType: 'application/json' }),
  );
  expect(out.contentType).toBe('application/json');
  return JSON.parse(utf8.decode(out.body)) as Json;
}

async function invokeStream(modelId: string, body: Json): Promise<Json[]> {
  const out = await client.send(new InvokeModelWithResponseStreamCommand({ modelId, body: encode(body) }));
  const chunks: Json[] = [];
  for await (const event of out.body ?? []) {
    if (event.chunk?.bytes) chunks.push(JSON.parse(utf8.decode(event.chunk.bytes)) as Json);
  }
  return chunks;
}

describe.each(CASES)('$name through the AWS SDK (HTTP/2)', (c) => {
  it('answers InvokeModel in the native format with token counts in body and headers', async () => {
    const response = await invoke(c.model, c.body);

    const read = c.read(response);
    expect(read.text.length).toBeGreaterThan(0);
    expect(read.stop).toBe(END_STOP[c.family]);
    const headerIn = Number(lastHeaders['x-amzn-bedrock-input-token-count']);
    const headerOut = Number(lastHeaders['x-amzn-bedrock-output-token-count']);
    expect(headerIn).toBeGreaterThan(estimateTokens(QUESTION, c.family));
    expect(headerOut).toBe(estimateTokens(read.text, c.family));
    if (read.inputTokens !== undefined) expect(read.inputTokens).toBe(headerIn);
    if (read.outputTokens !== undefined) expect(read.outputTokens).toBe(headerOut);
    expect(Number(lastHeaders['x-amzn-bedrock-invocation-latency'])).toBeGreaterThanOrEqual(0);
    expect(lastHeaders['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lastHeaders.date).toBeTruthy();
  });

  it('streams the same answer as native chunks, the last one with invocation metrics', async () => {
    const whole = c.read(await invoke(c.model, c.body));
    const headerIn = Number(lastHeaders['x-amzn-bedrock-input-token-count']);

    const chunks = await invokeStream(c.model, c.body);

    expect(lastHeaders['x-amzn-bedrock-content-type']).toBe('application/json');
    expect(chunks.map(c.chunkText).join('')).toBe(whole.text);
    const metrics = chunks.at(-1)?.['amazon-bedrock-invocationMetrics'] as Json;
    expect(metrics).toMatchObject({
      inputTokenCount: headerIn,
      outputTokenCount: estimateTokens(whole.text, c.family),
    });
    expect(metrics.firstByteLatency).toEqual(expect.any(Number));
    expect(metrics.invocationLatency).toEqual(expect.any(Number));
    expect(chunks.slice(0, -1).every((chunk) => !('amazon-bedrock-invocationMetrics' in chunk))).toBe(true);
  });

  it('answers Converse and ConverseStream with the same text and usage', async () => {
    const messages = [{ role: 'user' as const, content: [{ text: QUESTION }] }];

    const out = await client.send(
      new ConverseCommand({ modelId: c.model, messages, inferenceConfig: { maxTokens: 300 } }),
    );
    const stream = await client.send(
      new ConverseStreamCommand({ modelId: c.model, messages, inferenceConfig: { maxTokens: 300 } }),
    );
    const events: string[] = [];
    let streamed = '';
    let metadata: unknown;
    for await (const event of stream.stream ?? []) {
      const [name] = Object.keys(event);
      events.push(name ?? '');
      if (event.contentBlockDelta?.delta && 'text' in event.contentBlockDelta.delta)
        streamed += event.contentBlockDelta.delta.text ?? '';
      if (event.metadata) metadata = event.metadata;
    }

    const text = out.output && 'message' in out.output ? out.output.message?.content?.[0]?.text : undefined;
    expect(text?.length).toBeGreaterThan(0);
    expect(out.stopReason).toBe('end_turn');
    expect(out.usage?.outputTokens).toBe(estimateTokens(text ?? '', c.family));
    expect(out.usage?.totalTokens).toBe((out.usage?.inputTokens ?? 0) + (out.usage?.outputTokens ?? 0));
    expect(out.metrics?.latencyMs).toEqual(expect.any(Number));
    expect(streamed).toBe(text);
    expect(events[0]).toBe('messageStart');
    expect(events.slice(-3)).toEqual(['contentBlockStop', 'messageStop', 'metadata']);
    expect(metadata).toMatchObject({ usage: out.usage, metrics: { latencyMs: expect.any(Number) } });
  });

  it('refuses CountTokens: Bedrock counts only newer Claude models', async () => {
    const e = await client
      .send(new CountTokensCommand({ modelId: c.model, input: { invokeModel: { body: encode(c.body) } } }))
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    expect(e).toMatchObject({
      name: 'ValidationException',
      message: "The provided model doesn't support counting tokens.",
    });
  });
});

describe('CountTokens on a model that counts (Claude 3.5 Haiku)', () => {
  const model = 'anthropic.claude-3-5-haiku-20241022-v1:0';
  const body = CASES[0]!.body;

  it('counts the tokens of a native body and of a Converse request as the calls report them', async () => {
    await invoke(model, body);
    const invokeTokens = Number(lastHeaders['x-amzn-bedrock-input-token-count']);
    const messages = [{ role: 'user' as const, content: [{ text: QUESTION }] }];
    const converse = await client.send(new ConverseCommand({ modelId: model, messages }));

    const native = await client.send(
      new CountTokensCommand({ modelId: model, input: { invokeModel: { body: encode(body) } } }),
    );
    const viaConverse = await client.send(
      new CountTokensCommand({ modelId: model, input: { converse: { messages } } }),
    );

    expect(native.inputTokens).toBe(invokeTokens);
    expect(viaConverse.inputTokens).toBe(converse.usage?.inputTokens);
  });
});

describe('model ids in the path', () => {
  const body = CASES[0]!.body;

  it('accepts a cross-region profile id, a foundation-model ARN and an inference-profile ARN', async () => {
    const ids = [
      'us.anthropic.claude-3-haiku-20240307-v1:0',
      'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-haiku-20240307-v1:0',
    ];

    for (const modelId of ids) {
      const response = await invoke(modelId, body);

      expect(response.type).toBe('message');
      const ctx = control.records.at(-1)?.ctx;
      expect(ctx?.baseId).toBe('anthropic.claude-3-haiku-20240307-v1:0');
      expect(ctx?.modelId).toBe(modelId);
    }
    expect(control.records.at(-1)?.ctx.geo).toBe('eu');
  });

  it('serves a profile-only model through its profile', async () => {
    const response = await invoke('us.anthropic.claude-3-7-sonnet-20250219-v1:0', body);

    expect(response.model).toBe('claude-3-7-sonnet-20250219');
  });

  it('records each call once with its usage and settles the reservation with the real tokens', async () => {
    const before = control.records.length;

    const response = await invoke(CASES[0]!.model, body);

    const usage = response.usage as { input_tokens: number; output_tokens: number };
    expect(control.records.length).toBe(before + 1);
    expect(control.records.at(-1)).toMatchObject({
      outcome: 'ok',
      usage: { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens },
    });
    expect(control.settled.at(-1)?.actualTokens).toBe(usage.input_tokens + usage.output_tokens);
  });
});
