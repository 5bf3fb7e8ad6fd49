import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../models/catalog.js';
import type { SimulatorControl } from './control.js';
import { CONTEXT_MARGIN_TOKENS, prepareCall, route } from './routes.js';

const catalog = new ModelCatalog();
const allowAll: SimulatorControl = {
  model: (baseId) => {
    const info = catalog.resolve(baseId)?.info;
    return info && { enabled: true, ...info };
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

  it('fills the call context: base id, geo, input tokens, reserved output, prompt text', () => {
    const call = prepareCall(
      { modelId: 'us.amazon.titan-text-express-v1', operation: 'invoke' },
      body('User: hello\nBot:'),
      allowAll,
      catalog,
    );

    expect(call).toMatchObject({
      family: 'titan',
      ctx: { baseId: 'amazon.titan-text-express-v1', geo: 'us', maxOutputTokens: 100, promptText: 'hello\n' },
    });
  });

  it('refuses a prompt past the window less the margin, but counts it', () => {
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
      { modelId: 'amazon.titan-text-express-v1', operation: 'count-tokens' },
      Buffer.from(JSON.stringify({ input: { invokeModel: { body: body(long).toString('base64') } } })),
      control,
      catalog,
    );

    expect('error' in invoke && invoke.error.message).toBe('Input is too long for requested model.');
    expect('error' in count).toBe(false);
  });
});
