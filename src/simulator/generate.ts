import type { Family } from '../models/request.js';
import { estimateTokens, isMostlyHangul } from '../summarize/tokens.js';
import type { Generation, ParsedPrompt } from './native/types.js';

/** FNV-1a: a fast, stable hash so the same seed and prompt always give the same answer. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DOCUMENT = /<document>\n?([\s\S]*?)\n?<\/document>/;
const SENTENCE_END = /(?<=[.!?。！？])\s+|\n+/;
const EN_WORDS =
  'the model answers each request with a short and plain reply about data queues workers results tokens latency models chains summaries and reports'.split(
    ' ',
  );
const KO_WORDS =
  '모델은 요청에 대해 짧고 명확한 답변을 작성합니다 작업 대기열 결과 토큰 지연 요약 보고서 그리고 처리'.split(
    ' ',
  );

/** The document of a summarization prompt (our templates wrap it in `<document>` tags). */
export function documentOf(prompt: ParsedPrompt): string | undefined {
  const last = [...prompt.turns].reverse().find((t) => t.role === 'user');
  return last ? DOCUMENT.exec(last.text)?.[1] : undefined;
}

/**
 * An extractive summary: the first sentence plus the sentences richest in the document's
 * frequent words, in document order, taken verbatim (so a Korean document gives Korean).
 */
export function extractiveSummary(document: string, maxSentences = 5): string {
  const sentences = document
    .split(SENTENCE_END)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (sentences.length <= maxSentences) return sentences.join(' ');
  // Scoring a 300k-token document sentence by sentence is wasteful; a spread sample is as good.
  const step = Math.max(1, Math.floor(sentences.length / 2_000));
  const freq = new Map<string, number>();
  for (let i = 0; i < sentences.length; i += step) {
    for (const w of sentences[i]!.toLowerCase().split(/[\s,.;:!?"'()]+/))
      if (w.length > 1) freq.set(w, (freq.get(w) ?? 0) + 1);
  }
  const scored: { i: number; score: number }[] = [];
  for (let i = 1; i < sentences.length; i += step) {
    const words = sentences[i]!.toLowerCase()
      .split(/[\s,.;:!?"'()]+/)
      .filter((w) => w.length > 1);
    const score = words.reduce((n, w) => n + (freq.get(w) ?? 0), 0) / Math.max(4, words.length);
    scored.push({ i, score });
  }
  const chosen = new Set([
    0,
    ...scored
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, maxSentences - 1)
      .map((s) => s.i),
  ]);
  return [...chosen]
    .sort((a, b) => a - b)
    .map((i) => sentences[i])
    .join(' ');
}

function filler(promptText: string, seed: number): string {
  const rand = prng(hash32(promptText, seed));
  const words = isMostlyHangul(promptText) ? KO_WORDS : EN_WORDS;
  const count = 12 + Math.floor(rand() * 60);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(words[Math.floor(rand() * words.length)]!);
  const text = out.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Cuts text to at most `maxTokens` by the family's estimate (binary search on length). */
function cutToTokens(text: string, maxTokens: number, family: Family): string {
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateTokens(text.slice(0, mid), family) <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo);
}

export interface GenerateInput {
  prompt: ParsedPrompt;
  family: Family;
  inputTokens: number;
  seed: number;
  filtered?: boolean;
}

/** The deterministic answer to a prompt: same seed and prompt, same text. */
export function generate(input: GenerateInput): Generation {
  const { prompt, family, inputTokens } = input;
  if (input.filtered) return { text: '', stop: 'filtered', inputTokens, outputTokens: 0 };
  const doc = documentOf(prompt);
  let text =
    doc !== undefined
      ? extractiveSummary(doc)
      : filler(prompt.turns.map((t) => t.text).join('\n'), input.seed);
  let stop: Generation['stop'] = 'end';
  let stopSequence: string | undefined;
  for (const s of prompt.stopSequences) {
    const at = s.length > 0 ? text.indexOf(s) : -1;
    if (at >= 0) {
      text = text.slice(0, at);
      stop = 'stop_sequence';
      stopSequence = s;
    }
  }
  if (estimateTokens(text, family) > prompt.maxTokens) {
    text = cutToTokens(text, prompt.maxTokens, family);
    stop = 'length';
    stopSequence = undefined;
  }
  return {
    text,
    stop,
    ...(stopSequence ? { stopSequence } : {}),
    inputTokens,
    outputTokens: estimateTokens(text, family),
  };
}

/** The text as stream pieces of a few words each. */
export function pieces(text: string, wordsPerPiece = 3): string[] {
  if (text.length === 0) return [''];
  const words = text.split(/(?<=\s)/);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerPiece) out.push(words.slice(i, i + wordsPerPiece).join(''));
  return out;
}
