import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BedrockRuntimeClient,
  CountTokensCommand,
  InvokeModelCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../src/models/catalog.js';
import { adapterFor } from '../../src/models/families/index.js';
import { NATIVE_FAMILIES } from '../../src/models/request.js';
import { estimateTokens } from '../../src/models/tokens.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';
import { buildSummaryRequest } from '../../src/summarize/prompt.js';

const corpus = join(import.meta.dirname, '..', '..', 'examples', 'corpus');
const files = readdirSync(corpus)
  .filter((f) => /^0\d\d-(en|ko)-/.test(f))
  .slice(0, 40);
const catalog = new ModelCatalog();

let sim: ProfileSimulator;
let sdk: BedrockRuntimeClient;
/** `X-Amzn-Bedrock-Input-Token-Count` of the last InvokeModel answer. */
let invokedTokens = 0;

beforeAll(async () => {
  sim = await startSimulatorWithProfile({ profile: ProfileSchema.parse({ zeroLatency: true }) });
  sdk = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: sim.url,
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  sdk.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const headers = (out.response as { headers: Record<string, string> }).headers;
      invokedTokens = Number(headers['x-amzn-bedrock-input-token-count']);
      return out;
    },
    { step: 'deserialize', name: 'inputTokenHeader' },
  );
});

/**
 * The input tokens Bedrock meters for a native body: CountTokens where the model offers it
 * (newer Claude models only), otherwise the usage header of the call itself.
 */
async function countedTokens(modelId: string, counts: boolean, body: Uint8Array): Promise<number> {
  if (counts) {
    const answer = await sdk.send(new CountTokensCommand({ modelId, input: { invokeModel: { body } } }));
    return answer.inputTokens ?? 0;
  }
  await sdk.send(new InvokeModelCommand({ modelId, body, contentType: 'application/json' }));
  return invokedTokens;
}
afterAll(async () => {
  sdk.destroy();
  await sim.close();
});

/**
 * Our estimate of a summary prompt against what Bedrock meters for that family's native body
 * (CountTokens, or the call's usage header for models it does not count), over a mixed English
 * and Korean sample. The simulator counts with the same per-family rates, so what this
 * measures is the prompt around the text (template tokens, role markers) and the metering
 * path end to end; against real Bedrock the same test measures the estimator itself, and
 * `TokenCalibration` corrects budgets from real answers.
 */
describe('token estimate vs metered input tokens on a mixed corpus', () => {
  it('stays within 5% for every family', async () => {
    const lines: string[] = [];
    for (const family of NATIVE_FAMILIES) {
      // A model that counts if the family has one, else the widest window the corpus fits.
      const model = catalog
        .list()
        .filter((m) => m.family === family && !m.profileOnly)
        .sort(
          (a, b) => Number(b.countTokens) - Number(a.countTokens) || b.contextWindow - a.contextWindow,
        )[0]!;
      let estimated = 0;
      let counted = 0;
      for (const file of files) {
        const request = buildSummaryRequest({ document: readFileSync(join(corpus, file), 'utf8'), family });
        estimated += estimateTokens(
          `${request.system}\n${request.messages.map((m) => m.content).join('\n')}`,
          family,
        );
        const body = new TextEncoder().encode(JSON.stringify(adapterFor(family).toNative(request, model)));
        counted += await countedTokens(model.id, model.countTokens, body);
      }
      const error = (estimated - counted) / counted;
      lines.push(
        `${family.padEnd(9)} estimate ${estimated} vs metered ${counted}: ${(error * 100).toFixed(2)}%`,
      );
      expect(Math.abs(error)).toBeLessThan(0.05);
    }
    process.stdout.write(
      `token estimate error over ${files.length} documents (English and Korean):\n  ${lines.join('\n  ')}\n`,
    );
  });
});
