import type { ModelInfo } from '../models/info.js';
import type { Family } from '../models/request.js';
import { estimateTokens } from '../models/tokens.js';

/** Tokens kept free for the instruction, the system prompt and the chat template around a chunk. */
const PROMPT_OVERHEAD_TOKENS = 300;

/** Estimates are a few percent off; chunks aim below the limit by this fraction. */
const SAFETY = 0.9;

/**
 * Input tokens one summarization call to `model` may spend on document text: the context
 * window less the output budget, the prompt around the text and a safety margin.
 */
export function documentBudget(
  model: Pick<ModelInfo, 'contextWindow' | 'maxOutputTokens'>,
  maxOutputTokens: number,
): number {
  const output = Math.min(maxOutputTokens, model.maxOutputTokens);
  return Math.max(64, Math.floor((model.contextWindow - output - PROMPT_OVERHEAD_TOKENS) * SAFETY));
}

/** True when the whole document fits one call to the model. */
export function fitsInOneCall(document: string, family: Family, budget: number): boolean {
  // Cheap upper bound first: no family counts more than ~1.2 tokens per character.
  return document.length * 1.2 <= budget || estimateTokens(document, family) <= budget;
}

const SENTENCE = /(?<=[.!?。！？])\s+/;

/** Splits text that is too long on its own at the hardest boundary available. */
function pieces(text: string, family: Family, budget: number): string[] {
  if (estimateTokens(text, family) <= budget) return [text];
  const sentences = text.split(SENTENCE);
  if (sentences.length > 1)
    return pack(
      sentences.flatMap((s) => pieces(s, family, budget)),
      family,
      budget,
      ' ',
    );
  // One sentence longer than the budget (no punctuation): cut on whitespace, then by length.
  const words = text.split(/(?<=\s)/);
  if (words.length > 1) return pack(words, family, budget, '');
  const size = Math.max(1, Math.floor(text.length * (budget / estimateTokens(text, family))));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Greedily packs consecutive parts into chunks under the budget, joined by `sep`. */
function pack(parts: readonly string[], family: Family, budget: number, sep: string): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let tokens = 0;
  const sepTokens = sep ? estimateTokens(sep, family) : 0;
  for (const part of parts) {
    const t = estimateTokens(part, family);
    if (current.length > 0 && tokens + sepTokens + t > budget) {
      chunks.push(current.join(sep));
      current = [];
      tokens = 0;
    }
    current.push(part);
    tokens += (current.length > 1 ? sepTokens : 0) + t;
  }
  if (current.length > 0) chunks.push(current.join(sep));
  return chunks;
}

/**
 * Splits a document into chunks of at most `budget` tokens (by the family's estimate), on
 * paragraph boundaries where possible, then sentences, then words. Text is kept verbatim and
 * in order; only the whitespace between paragraphs is normalised to one blank line.
 */
export function chunkDocument(document: string, family: Family, budget: number): string[] {
  if (estimateTokens(document, family) <= budget) return [document];
  const paragraphs = document
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .flatMap((p) => pieces(p, family, budget));
  return pack(paragraphs, family, budget, '\n\n');
}
