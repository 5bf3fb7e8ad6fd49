import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { ConfigError } from '../config-error.js';
import { ModelCatalog } from './catalog.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const ARN = 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6';

describe('application inference profiles in the catalog', () => {
  it('resolves a configured ARN to the model it was made from, sending the ARN itself', () => {
    const catalog = ModelCatalog.of({ inferenceProfiles: { [ARN]: 'claude-3-haiku' } });

    expect(catalog.resolve(ARN)).toMatchObject({
      requestId: ARN,
      baseId: HAIKU,
      family: 'anthropic',
      known: true,
      applicationProfile: true,
    });
    expect(new ModelCatalog().resolve(ARN)).toBeUndefined();
  });

  it('keeps the geography of a system profile an application profile copies', () => {
    const catalog = ModelCatalog.of({ inferenceProfiles: { [ARN]: `us.${HAIKU}` } });

    expect(catalog.resolve(ARN)).toMatchObject({ requestId: ARN, baseId: HAIKU, geo: 'us' });
  });

  it('refuses a profile whose model it cannot resolve, naming the profile', () => {
    expect(() => ModelCatalog.of({ inferenceProfiles: { [ARN]: 'acme.unknown-v1' } })).toThrow(
      `inferenceProfiles["${ARN}"]: model "acme.unknown-v1" is not in the catalog`,
    );
  });
});

describe('config inferenceProfiles', () => {
  it('accepts an application profile ARN mapped to a model the catalog resolves', () => {
    const config = loadConfig({ env: {}, overrides: { inferenceProfiles: { [ARN]: 'claude-3-haiku' } } });

    expect(ModelCatalog.of(config).resolve(ARN)?.baseId).toBe(HAIKU);
  });

  it('refuses a key that is not an application profile ARN, and a model it cannot resolve, naming each', () => {
    const badKey = () =>
      loadConfig({ env: {}, overrides: { inferenceProfiles: { [`us.${HAIKU}`]: 'claude-3-haiku' } } });
    const badModel = () => loadConfig({ env: {}, overrides: { inferenceProfiles: { [ARN]: 'acme.x-v1' } } });

    expect(badKey).toThrow(ConfigError);
    expect(badKey).toThrow(`inferenceProfiles.us.${HAIKU}: must be an application inference profile ARN`);
    expect(badModel).toThrow(`inferenceProfiles.${ARN}: model "acme.x-v1" is not in the catalog`);
  });
});
