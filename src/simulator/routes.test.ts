import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../models/catalog.js';
import type { SimulatorControl } from './control.js';
import { CONTEXT_MARGIN_TOKENS, prepareCall, type Route, route } from './routes.js';

const catalog = new ModelCatalog();
const allowAll: SimulatorControl = {
  model: (baseId) => {
    // Like the real control without a profile: only the catalog's models exist.
    const info = catalog.get(baseId);
    return info && { available: true, enabled: true, ...info };
  },
  admit: () => ({ ok: true, reservation: { key: 'k', reservedTokens: 0 } }),
  settle: () => undefined,
  fault: () => ({ type: 'none' }),
  latency: () => ({ firstTokenMs: 0, perTokenMs: 0 }),
  record: () => undefined,
};

describe('route', () => {
  it('decodes the model id label, percent-encoded or raw', () => {
    expect(route('/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke')).toEqual({
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      operation: 'invoke',
    });
    expect(route('/model/anthropic.claude-3-haiku-20240307-v1:0/converse-stream?x=1')).toEqual({
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      operation: 'converse-stream',
    });
  });

  it('accepts ARNs with an encoded or a raw slash', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0';

    expect(route(`/model/${encodeURIComponent(arn)}/invoke-with-response-stream`)?.modelId).toBe(arn);
    expect(route(`/model/${arn}/count-tokens`)).toEqual({ modelId: arn, operation: 'count-tokens' });
  });

  it('knows no other paths', () => {
    expect(route('/model/x/explode')).toBeUndefined();
    expect(route('/models/x/invoke')).toBeUndefined();
    expect(route('/model/%E0%A4%A/invoke')).toBeUndefined();
  });
});

describe('prepareCall', () => {
  const body = (text: string) =>
    Buffer.from(JSON.stringify({ inputText: text, textGenerationConfig: { maxTokenCount: 100 } }));
  const novaBody = Buffer.from(
    JSON.stringify({
      messages: [{ role: 'user', content: [{ text: 'hello' }] }],
      inferenceConfig: { max_new_tokens: 100 },
    }),
  );
  const claudeBody = (messages: unknown) =>
    Buffer.from(JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages }));
  const refusal = (modelId: string, operation: Route['operation'], b: Buffer = novaBody) => {
    const call = prepareCall({ modelId, operation }, b, allowAll, catalog);
    return 'error' in call ? call : undefined;
  };

  it('fills the call context: base id, geo, input tokens, reserved output, prompt text', () => {
    const call = prepareCall(
      { modelId: 'us.amazon.nova-lite-v1:0', operation: 'invoke' },
      novaBody,
      allowAll,
      catalog,
    );

    expect(call).toMatchObject({
      family: 'nova',
      ctx: { baseId: 'amazon.nova-lite-v1:0', geo: 'us', maxOutputTokens: 100, promptText: 'hello\n' },
    });
  });

  it("refuses a prompt past the window less the margin in the family's words, but counts it", () => {
    const control: SimulatorControl = {
      ...allowAll,
      model: (id) => ({ ...allowAll.model(id)!, contextWindow: 40 + CONTEXT_MARGIN_TOKENS }),
    };
    const long = 'word '.repeat(200);

    const invoke = prepareCall(
      { modelId: 'amazon.titan-text-express-v1', operation: 'invoke' },
      body(long),
      control,
      catalog,
    );
    const count = prepareCall(
      { modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', operation: 'count-tokens' },
      Buffer.from(
        JSON.stringify({
          input: { invokeModel: { body: claudeBody([{ role: 'user', content: long }]).toString('base64') } },
        }),
      ),
      control,
      catalog,
    );

    expect('error' in invoke && invoke.error.message).toMatch(
      /^400 Bad Request: Too many input tokens\. Max input tokens: 56, request input token count: \d+ $/,
    );
    expect('error' in count).toBe(false);
  });

  it('refuses an id Bedrock does not know with 400 The provided model identifier is invalid.', () => {
    for (const modelId of [
      'anthropic.claude-9-v1:0',
      'foo.bar-v1',
      'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123',
    ]) {
      expect(refusal(modelId, 'invoke')?.error).toEqual({
        name: 'ValidationException',
        message: 'The provided model identifier is invalid.',
      });
    }
  });

  it('refuses our aliases and geographies a model has no profile in, but not its real profiles', () => {
    expect(refusal('nova-lite', 'invoke')?.error.message).toBe('The provided model identifier is invalid.');
    expect(refusal('us.amazon.titan-text-express-v1', 'invoke', body('hi'))?.error.message).toBe(
      'The provided model identifier is invalid.',
    );
    expect(
      refusal(
        'global.anthropic.claude-3-haiku-20240307-v1:0',
        'invoke',
        claudeBody([{ role: 'user', content: 'hi' }]),
      )?.error.message,
    ).toBe('The provided model identifier is invalid.');
    expect(refusal('eu.amazon.nova-lite-v1:0', 'invoke')).toBeUndefined();
  });

  it('accepts every id the worker sends for a catalog alias', () => {
    for (const info of catalog.list()) {
      for (const alias of info.aliases) {
        const sent = catalog.resolve(alias)!.requestId;

        const call = prepareCall(
          { modelId: sent, operation: 'converse' },
          Buffer.from('{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'),
          allowAll,
          catalog,
        );

        expect('error' in call ? `${alias} → ${sent}: ${call.error.message}` : 'ok').toBe('ok');
      }
    }
  });

  it('counts tokens only for a model that counts, by its base id', () => {
    const input = Buffer.from(
      JSON.stringify({ input: { converse: { messages: [{ role: 'user', content: [{ text: 'hi' }] }] } } }),
    );
    const noCounting = "The provided model doesn't support counting tokens.";

    expect(refusal('amazon.nova-lite-v1:0', 'count-tokens', input)?.error.message).toBe(noCounting);
    expect(refusal('anthropic.claude-3-haiku-20240307-v1:0', 'count-tokens', input)?.error.message).toBe(
      noCounting,
    );
    expect(refusal('us.anthropic.claude-3-5-haiku-20241022-v1:0', 'count-tokens', input)?.error.message).toBe(
      noCounting,
    );
    expect(refusal('anthropic.claude-3-5-haiku-20241022-v1:0', 'count-tokens', input)).toBeUndefined();
    expect(
      refusal(
        'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
        'count-tokens',
        input,
      ),
    ).toBeUndefined();
    expect(refusal('anthropic.claude-3-7-sonnet-20250219-v1:0', 'count-tokens', input)).toBeUndefined();
  });

  it('answers 404 for a model the profile marks not offered', () => {
    const control: SimulatorControl = {
      ...allowAll,
      model: (id) => ({ ...allowAll.model(id)!, available: false }),
    };

    const call = prepareCall(
      { modelId: 'amazon.nova-lite-v1:0', operation: 'invoke' },
      novaBody,
      control,
      catalog,
    );

    expect('error' in call && call.error).toEqual({
      name: 'ResourceNotFoundException',
      message: 'Could not resolve the foundation model from the provided model identifier.',
    });
  });

  it("sends Anthropic's own refusals inside a response stream, Bedrock's schema errors before it", () => {
    const haiku = 'anthropic.claude-3-haiku-20240307-v1:0';
    const twoUsers = claudeBody([
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ]);
    const noVersion = Buffer.from(
      JSON.stringify({ max_tokens: 10, messages: [{ role: 'user', content: 'a' }] }),
    );

    expect(refusal(haiku, 'invoke-stream', twoUsers)?.inStream).toBe(true);
    expect(refusal(haiku, 'invoke', twoUsers)?.inStream).toBe(false);
    expect(refusal(haiku, 'invoke-stream', noVersion)?.inStream).toBe(false);
  });
});
