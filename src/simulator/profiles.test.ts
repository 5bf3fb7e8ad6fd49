import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createControl } from './behaviour.js';
import { loadProfile, PROFILES_DIR, ProfileError } from './profiles.js';

const SHIPPED = readdirSync(PROFILES_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''));

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sim-profile-')), name);
  writeFileSync(file, text);
  return file;
}

describe('loadProfile', () => {
  it('ships the six documented profiles', () => {
    expect(SHIPPED.sort()).toEqual(['chaos', 'flapping', 'primary-outage', 'steady', 'throttled', 'zero']);
  });

  it.each(SHIPPED)('parses the shipped profile %s and builds a control from it', (name) => {
    const profile = loadProfile(name);

    expect(profile.name).toBe(name);
    expect(() => createControl({ profile })).not.toThrow();
  });

  it('loads a JSON file by path', () => {
    const file = tempFile(
      'p.json',
      JSON.stringify({ name: 'j', timeScale: 5, models: { 'titan-express': { rpm: 7 } } }),
    );

    expect(loadProfile(file)).toMatchObject({
      name: 'j',
      timeScale: 5,
      models: { 'titan-express': { rpm: 7 } },
    });
  });

  it('names the file and the field of a bad value', () => {
    const file = tempFile(
      'bad.yaml',
      'models:\n  anthropic.claude-3-haiku-20240307-v1:0: { rpm: lots }\nfaults:\n  - { model: "*", hang: { probability: 2 } }\n',
    );

    const error = (() => {
      try {
        loadProfile(file);
      } catch (e) {
        return e as Error;
      }
    })();

    expect(error).toBeInstanceOf(ProfileError);
    expect(error?.message).toContain(file);
    expect(error?.message).toContain('models["anthropic.claude-3-haiku-20240307-v1:0"].rpm');
    expect(error?.message).toContain('faults[0].hang.probability');
  });

  it('names an unknown field', () => {
    const file = tempFile('typo.yaml', 'timescale: 10\n');

    expect(() => loadProfile(file)).toThrow(/timescale/);
  });

  it('says which file it looked for when a profile name is unknown', () => {
    expect(() => loadProfile('no-such-profile')).toThrow(/no-such-profile.*not found.*no-such-profile\.yaml/);
  });

  it('reports YAML syntax errors with the file name', () => {
    const file = tempFile('broken.yaml', 'models: { a: [\n');

    expect(() => loadProfile(file)).toThrow(/broken\.yaml is not valid YAML/);
  });
});
