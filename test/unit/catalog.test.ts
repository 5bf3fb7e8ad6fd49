import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, DEFAULT_CHAIN } from '../../src/config.js';
import { BUILTIN_MODELS, CATALOG_CHECKED } from '../../src/models/builtin.js';
import { apiFor, ModelCatalog } from '../../src/models/catalog.js';
import { FAMILY_DEFAULTS, isConverseOnly, ModelInfoSchema } from '../../src/models/info.js';
import { inferFamily } from '../../src/models/model-id.js';
import { CONVERSE_ONLY_FAMILIES, FAMILIES, isNativeFamily } from '../../src/models/request.js';

const catalog = new ModelCatalog();
const ROOT = join(import.meta.dirname, '..', '..');

/** The chains a user gets or copies: the config default and the example config's. */
function shippedChains(): Record<string, string[]> {
  const example = ConfigSchema.parse(parseYaml(readFileSync(join(ROOT, 'examples', 'config.yaml'), 'utf8')));
  const defaults = ConfigSchema.parse({});
  return {
    'config default': defaults.chains.default ?? [],
    ...Object.fromEntries(Object.entries(example.chains).map(([name, ids]) => [`example ${name}`, ids])),
  };
}

describe('the built-in catalog', () => {
  it.each(BUILTIN_MODELS.map((m) => [m.id, m] as const))(
    '%s parses as a config model would',
    (_id, model) => {
      expect(ModelInfoSchema.parse(model)).toEqual(model);
    },
  );

  it.each(BUILTIN_MODELS.map((m) => [m.id, m] as const))(
    '%s says which AWS page it was checked on, and when',
    (_id, model) => {
      expect(model.source?.url).toMatch(
        /^https:\/\/docs\.aws\.amazon\.com\/bedrock\/latest\/userguide\/[\w-]+\.html$/,
      );
      expect(model.source?.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(model.source!.checked <= CATALOG_CHECKED).toBe(true);
    },
  );

  it('gives every id and alias to one model only', () => {
    const names = BUILTIN_MODELS.flatMap((m) => [m.id, ...m.aliases]);

    expect(names.length).toBe(new Set(names).size);
  });

  it('dates only LEGACY models with an EOL', () => {
    const dated = BUILTIN_MODELS.filter((m) => m.eolDate !== undefined);

    expect(dated.length).toBeGreaterThan(5);
    expect(dated.filter((m) => m.lifecycle !== 'LEGACY').map((m) => m.id)).toEqual([]);
  });

  it('infers each model family from its id, so a profile or ARN of it resolves too', () => {
    for (const model of BUILTIN_MODELS) {
      expect(inferFamily(model.id)).toBe(model.family);
      expect(catalog.resolve(`arn:aws:bedrock:us-east-1::foundation-model/${model.id}`)?.info).toEqual(model);
    }
  });

  it('gives every profile-only model a US profile, which its alias is sent to', () => {
    const profileOnly = BUILTIN_MODELS.filter((m) => m.profileOnly);

    expect(profileOnly.filter((m) => !m.profiles?.includes('us')).map((m) => m.id)).toEqual([]);
    for (const m of profileOnly) expect(catalog.resolve(m.aliases[0]!)?.requestId).toBe(`us.${m.id}`);
  });

  it('lists at least one model of every family, and family defaults for each', () => {
    expect(new Set(BUILTIN_MODELS.map((m) => m.family))).toEqual(new Set(FAMILIES));
    expect(Object.keys(FAMILY_DEFAULTS).sort()).toEqual([...FAMILIES].sort());
  });
});

describe('default chains', () => {
  it.each(Object.entries(shippedChains()))('%s names only ACTIVE catalog models', (_name, chain) => {
    const models = chain.map((id) => catalog.resolve(id));

    expect(models.every((m) => m?.known)).toBe(true);
    expect(models.filter((m) => m?.info.lifecycle !== 'ACTIVE').map((m) => m?.requestId)).toEqual([]);
  });

  it('spreads the default chain over three providers, so one provider down leaves two', () => {
    const families = DEFAULT_CHAIN.map((id) => catalog.resolve(id)?.family);

    expect(new Set(families).size).toBe(3);
  });

  it('calls a profile-only model of the default chain through a profile', () => {
    for (const id of DEFAULT_CHAIN) {
      const model = catalog.resolve(id)!;
      expect(!model.info.profileOnly || model.geo !== undefined).toBe(true);
    }
  });
});

describe('Converse-only models', () => {
  const converseOnly = BUILTIN_MODELS.filter((m) => isConverseOnly(m));

  it('marks every model of a family without a native adapter converse-only', () => {
    expect(BUILTIN_MODELS.filter((m) => !isNativeFamily(m.family) && m.converseOnly !== true)).toEqual([]);
    expect(new Set(converseOnly.map((m) => m.family))).toEqual(new Set([...CONVERSE_ONLY_FAMILIES, 'llama']));
  });

  it('sends an invoke job to them through Converse, and leaves the others as asked', () => {
    const gptOss = catalog.resolve('gpt-oss-120b')!;
    const unlisted = catalog.resolve('deepseek.r2-v1:0')!;
    const haiku = catalog.resolve('claude-haiku-4-5')!;

    expect([apiFor(gptOss, 'invoke'), apiFor(unlisted, 'invoke'), apiFor(haiku, 'invoke')]).toEqual([
      'converse',
      'converse',
      'invoke',
    ]);
    expect(apiFor(haiku, 'converse')).toBe('converse');
  });

  it('refuses a config model that claims a native format its family does not have', () => {
    const parsed = ModelInfoSchema.safeParse({
      ...FAMILY_DEFAULTS.qwen,
      id: 'qwen.qwen9-v1:0',
      name: 'Qwen 9',
      converseOnly: false,
    });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['converseOnly']);
  });
});
