import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTable } from '../../src/config-doc.js';

const root = join(import.meta.dirname, '..', '..');

describe('README', () => {
  it('documents every setting with its current default', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const inReadme = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];

    expect(inReadme, 'run `npx tsx scripts/config-table.ts --write`').toBe(configTable());
  });

  it('documents every environment variable the config reads', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    // The config and its section modules: src/config.ts, src/config-load.ts and the like.
    const configSource = readdirSync(join(root, 'src'))
      .filter((f) => /^config(-[a-z]+)?\.ts$/.test(f))
      .map((f) => readFileSync(join(root, 'src', f), 'utf8'))
      .join('\n');
    const read = new Set([...configSource.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]));

    expect(read.size).toBeGreaterThanOrEqual(7);
    for (const name of read)
      expect(readme, `README env table lacks ${name}`).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });

  it('gives the two set-up commands that .ci/run and package.json implement', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };

    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
    expect(ci).toMatch(/^npm test$/m);
    expect(pkg.scripts.demo).toBeDefined();
    expect(pkg.scripts.test).toBeDefined();
  });

  it('documents the crash suite that .ci/run runs after the tests', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };

    expect(readme).toContain('npm run test:chaos');
    expect(pkg.scripts['test:chaos']).toBe('vitest run -c vitest.chaos.config.ts');
    expect(ci).toMatch(/^npm test\n(?:#.*\n)*npm run test:chaos$/m);
  });
});
