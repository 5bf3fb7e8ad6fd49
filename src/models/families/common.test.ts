import { describe, expect, it } from 'vitest';
import { FAMILY_DEFAULTS, type ModelInfo } from '../info.js';
import { type ModelRequest, NATIVE_FAMILIES, type NativeFamily } from '../request.js';
import { ADAPTERS, adapterFor } from './index.js';

/** Where each family keeps its output budget in the native body. */
const maxTokensOf: Record<NativeFamily, (body: Record<string, unknown>) => unknown> = {
  anthropic: (b) => b.max_tokens,
  titan: (b) => (b.textGenerationConfig as Record<string, unknown>).maxTokenCount,
  nova: (b) => (b.inferenceConfig as Record<string, unknown>).max_new_tokens,
  llama: (b) => b.max_gen_len,
  mistral: (b) => b.max_tokens,
  cohere: (b) => b.max_tokens,
};

const modelOf = (family: NativeFamily, maxOutputTokens: number): ModelInfo => ({
  ...FAMILY_DEFAULTS[family],
  id: `test.${family}`,
  name: family,
  aliases: [],
  maxOutputTokens,
});

const hi: ModelRequest = { messages: [{ role: 'user', content: 'Hi' }] };

describe('every family adapter', () => {
  it('is found by family name', () => {
    for (const family of NATIVE_FAMILIES) expect(adapterFor(family).family).toBe(family);
  });

  it.each(NATIVE_FAMILIES)('%s asks for 512 output tokens by default', (family) => {
    expect(maxTokensOf[family](ADAPTERS[family].toNative(hi, modelOf(family, 4_000)))).toBe(512);
  });

  it.each(NATIVE_FAMILIES)('%s caps the default at a model that produces fewer than 512', (family) => {
    expect(maxTokensOf[family](ADAPTERS[family].toNative(hi, modelOf(family, 300)))).toBe(300);
  });

  it.each(NATIVE_FAMILIES)(
    '%s caps a larger request at the model maximum and keeps a smaller one',
    (family) => {
      const model = modelOf(family, 2_048);

      const big = ADAPTERS[family].toNative({ ...hi, params: { maxTokens: 100_000 } }, model);
      const small = ADAPTERS[family].toNative({ ...hi, params: { maxTokens: 64 } }, model);

      expect(maxTokensOf[family](big)).toBe(2_048);
      expect(maxTokensOf[family](small)).toBe(64);
    },
  );

  it.each(NATIVE_FAMILIES)('%s ignores native overrides meant for other families', (family) => {
    const others = Object.fromEntries(
      NATIVE_FAMILIES.filter((f) => f !== family).map((f) => [f, { [`only_${f}`]: true }]),
    );
    const model = modelOf(family, 4_000);

    const body = ADAPTERS[family].toNative({ ...hi, native: others }, model);

    expect(body).toEqual(ADAPTERS[family].toNative(hi, model));
  });

  it.each(NATIVE_FAMILIES)('%s never sends null for an unset parameter', (family) => {
    const body = ADAPTERS[family].toNative(hi, modelOf(family, 4_000));

    expect(JSON.stringify(body)).not.toContain('null');
  });

  it.each(NATIVE_FAMILIES)('%s names itself when the answer is not JSON object', (family) => {
    expect(() => ADAPTERS[family].fromNative('oops')).toThrow(
      new RegExp(`^unexpected ${family} .*: expected a JSON object, got string$`),
    );
  });

  it('maps an unknown stop reason that happens to be an Object method name to other', () => {
    const reply = ADAPTERS.llama.fromNative({
      generation: 'x',
      prompt_token_count: 1,
      generation_token_count: 1,
      stop_reason: 'toString',
    });

    expect(reply.stopReason).toBe('other');
  });
});
