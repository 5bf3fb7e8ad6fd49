import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../src/models/catalog.js';
import { catalogMarkdown } from '../../src/models/catalog-doc.js';

const root = join(import.meta.dirname, '..', '..');

describe('README', () => {
  it('shows the model tables `bedrock-jobs models --markdown` prints for the built-in catalog', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const inReadme = /<!-- model-table:start -->\n([\s\S]*?)\n<!-- model-table:end -->/.exec(readme)?.[1];

    expect(inReadme, 'run `npx bedrock-jobs models --markdown` and paste its output into README.md').toBe(
      catalogMarkdown(new ModelCatalog()),
    );
  });

  it('lists every catalog model in that table, once', () => {
    const table = catalogMarkdown(new ModelCatalog());

    for (const m of new ModelCatalog().list()) expect(table.split(`\`${m.id}\``).length - 1, m.id).toBe(1);
  });
});
