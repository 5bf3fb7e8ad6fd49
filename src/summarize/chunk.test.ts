import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../models/catalog.js';
import { estimateTokens } from '../models/tokens.js';
import { chunkDocument, documentBudget, fitsInOneCall } from './chunk.js';

const catalog = new ModelCatalog();
const corpus = join(import.meta.dirname, '..', '..', 'examples', 'corpus');
const normalise = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('chunking a document for a model', () => {
  it('keeps a document that fits in one chunk', () => {
    expect(chunkDocument('One paragraph.\n\nTwo.', 'anthropic', 1000)).toEqual(['One paragraph.\n\nTwo.']);
  });

  it('splits the huge Korean contract into chunks under each model budget, losing no text', () => {
    const doc = readFileSync(join(corpus, '217-ko-contract-huge.txt'), 'utf8');
    for (const alias of ['claude-3-haiku', 'titan-express']) {
      const model = catalog.get(alias)!;
      const budget = documentBudget(model, 512);

      const chunks = chunkDocument(doc, model.family, budget);

      expect(fitsInOneCall(doc, model.family, budget)).toBe(false);
      expect(chunks.length).toBeGreaterThan(1);
      for (const c of chunks) expect(estimateTokens(c, model.family)).toBeLessThanOrEqual(budget);
      expect(normalise(chunks.join(' '))).toBe(normalise(doc));
    }
  });

  it('gives smaller windows more chunks', () => {
    const doc = readFileSync(join(corpus, '217-ko-contract-huge.txt'), 'utf8');
    const claude = catalog.get('claude-3-haiku')!;
    const titan = catalog.get('titan-express')!;

    const forClaude = chunkDocument(doc, 'anthropic', documentBudget(claude, 512)).length;
    const forTitan = chunkDocument(doc, 'titan', documentBudget(titan, 512)).length;

    expect(forTitan).toBeGreaterThan(forClaude * 10);
  });

  it('cuts text without paragraph or sentence breaks and still keeps every character', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 20, max: 400 }),
        (text, budget) => {
          const chunks = chunkDocument(text, 'titan', budget);
          for (const c of chunks) expect(estimateTokens(c, 'titan')).toBeLessThanOrEqual(budget);
          expect(chunks.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('budgets leave room for the output and the prompt', () => {
    const titan = catalog.get('titan-express')!;

    expect(documentBudget(titan, 512)).toBeLessThan(8192 - 512 - 200);
    expect(documentBudget(titan, 100_000)).toBeGreaterThan(0);
  });
});
