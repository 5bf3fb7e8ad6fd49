import {
  BedrockRuntimeClient,
  ConverseCommand,
  InvokeModelCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_MODELS } from '../../src/models/builtin.js';
import type { ModelInfo } from '../../src/models/info.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';

/**
 * The simulator knows the catalog: every listed model answers by its Bedrock id (or, for a
 * model us-east-1 serves only through a profile, by a profile id), and nothing else does.
 */

let sim: ProfileSimulator;
let sdk: BedrockRuntimeClient;

beforeAll(async () => {
  sim = await startSimulatorWithProfile({ profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0 }) });
  sdk = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: sim.url,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
});
afterAll(async () => {
  sdk.destroy();
  await sim.close();
});
beforeEach(() => {
  sim.admin.reset();
});

/** The id a caller sends: the base id, or the model's first profile when it needs one. */
const callable = (m: ModelInfo): string => (m.profileOnly ? `${m.profiles?.[0] ?? 'us'}.${m.id}` : m.id);

const converse = (modelId: string) =>
  sdk.send(
    new ConverseCommand({
      modelId,
      messages: [{ role: 'user', content: [{ text: 'What is a queue?' }] }],
      inferenceConfig: { maxTokens: 50 },
    }),
  );

/** The ValidationException message a call ends with, or 'answered'. */
async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'answered';
  } catch (e) {
    if (e instanceof ValidationException) return e.message;
    throw e;
  }
}

describe('the simulator and the catalog', () => {
  it.each(BUILTIN_MODELS.map((m) => [callable(m), m] as const))('answers Converse for %s', async (id) => {
    const out = await converse(id);

    expect(out.stopReason).toBeDefined();
    expect(out.usage?.outputTokens).toBeGreaterThan(0);
  });

  it('refuses the base id of every profile-only model, asking for a profile', async () => {
    const profileOnly = BUILTIN_MODELS.filter((m) => m.profileOnly);

    const messages = await Promise.all(profileOnly.map((m) => refusal(converse(m.id))));

    expect(profileOnly.length).toBeGreaterThan(10);
    for (const [i, m] of profileOnly.entries())
      expect(messages[i]).toBe(
        `Invocation of model ID ${m.id} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
      );
  });

  it('refuses ids Bedrock does not know: an unlisted version, our alias, a geography without a profile', async () => {
    const ids = [
      'openai.gpt-oss-999b-1:0',
      'deepseek.r9-v1:0',
      'gpt-oss-120b',
      'claude-haiku-4-5',
      'apac.anthropic.claude-haiku-4-5-20251001-v1:0',
      'eu.openai.gpt-oss-120b-1:0',
    ];

    const messages = await Promise.all(ids.map((id) => refusal(converse(id))));

    expect(messages).toEqual(ids.map(() => 'The provided model identifier is invalid.'));
  });

  it('serves the Converse-only models through Converse alone: InvokeModel is refused', async () => {
    const body = new TextEncoder().encode(
      JSON.stringify({ messages: [{ role: 'user', content: 'What is a queue?' }], max_tokens: 50 }),
    );

    const invoke = await refusal(
      sdk.send(new InvokeModelCommand({ modelId: 'openai.gpt-oss-120b-1:0', body })),
    );
    const conversed = await refusal(converse('openai.gpt-oss-120b-1:0'));

    expect(invoke).toBe(
      "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
    );
    expect(conversed).toBe('answered');
  });

  it("passes a Converse-only model's extra fields through, as Bedrock merges them into its body", async () => {
    const out = await sdk.send(
      new ConverseCommand({
        modelId: 'openai.gpt-oss-20b-1:0',
        messages: [{ role: 'user', content: [{ text: 'What is a queue?' }] }],
        additionalModelRequestFields: { reasoning_effort: 'low' },
      }),
    );

    expect(out.output?.message?.content?.[0]?.text?.length).toBeGreaterThan(0);
  });
});
