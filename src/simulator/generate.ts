import type { Family } from '../models/request.js';
import { estimateTokens, isMostlyHangul } from '../models/tokens.js';
import { createRandom, deriveSeed } from '../random.js';
import type { Generation, ParsedPrompt } from './native/types.js';

const DOCUMENT = /<document>\n?([\s\S]*?)\n?<\/document>/;
/** Sentence ends: Latin and CJK punctuation (Korean `다.`/`요.` end in a full stop), or a line break. */
const SENTENCE_END = /(?<=[.!?。！？])\s+|\n+/;
const WORD_SPLIT = /[^\p{L}\p{N}]+/u;
const MAX_SUMMARY_SENTENCES = 5;

const EN_WORDS = (
  'the model answers each request with a short plain reply about data queues workers results tokens ' +
  'latency chains summaries reports batches retries limits and careful notes on every step'
).split(' ');
const KO_WORDS = (
  '모델은 요청에 대해 짧고 명확한 답변을 작성합니다 작업 대기열 결과 토큰 지연 요약 보고서 ' +
  '그리고 처리 단계마다 기록을 남깁니다 배치 재시도 한도'
).split(' ');

/** The document of a summarization prompt: the project's templates wrap it in `<document>` tags. */
export function documentOf(prompt: ParsedPrompt): string | undefined {
  for (let i = prompt.turns.length - 1; i >= 0; i--) {
    const turn = prompt.turns[i]!;
    if (turn.role === 'user') return DOCUMENT.exec(turn.text)?.[1];
  }
  return undefined;
}

/** The document's sentences, trimmed, empty ones dropped. */
export function sentencesOf(document: string): string[] {
  const out: string[] = [];
  for (const s of document.split(SENTENCE_END)) {
    const t = s.trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}

/** Words worth counting: Hangul words of two syllables and up, other words of three letters and up. */
function wordsOf(sentence: string): string[] {
  const out: string[] = [];
  for (const w of sentence.toLowerCase().split(WORD_SPLIT)) {
    if (w.length > 2 || (w.length === 2 && w.charCodeAt(0) >= 0xac00)) out.push(w);
  }
  return out;
}

/**
 * An extractive summary: the first sentence plus the sentences richest in the document's
 * frequent words (mean term frequency), in document order and verbatim, so a Korean
 * document gives a Korean summary made of its own sentences.
 */
export function extractiveSummary(document: string): string {
  const sentences = sentencesOf(document);
  const want = Math.min(
    sentences.length,
    MAX_SUMMARY_SENTENCES,
    Math.max(2, Math.ceil(sentences.length / 4)),
  );
  if (sentences.length <= want) return sentences.join(' ');
  const words = sentences.map(wordsOf);
  const freq = new Map<string, number>();
  for (const list of words) for (const w of list) freq.set(w, (freq.get(w) ?? 0) + 1);
  const scored: { i: number; score: number }[] = [];
  for (let i = 1; i < sentences.length; i++) {
    const list = words[i]!;
    let sum = 0;
    for (const w of list) sum += freq.get(w) ?? 0;
    scored.push({ i, score: sum / Math.max(4, list.length) });
  }
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  const chosen = [0, ...scored.slice(0, want - 1).map((s) => s.i)].sort((a, b) => a - b);
  return chosen.map((i) => sentences[i]).join(' ');
}

/** Deterministic filler in the prompt's script: sentences of seeded words. */
function filler(seedText: string, hangul: boolean, seed: number): string {
  const rand = createRandom(deriveSeed(seed, seedText));
  const vocabulary = hangul ? KO_WORDS : EN_WORDS;
  const sentences: string[] = [];
  const count = 2 + Math.floor(rand() * 4);
  for (let s = 0; s < count; s++) {
    const words: string[] = [];
    const length = 6 + Math.floor(rand() * 8);
    for (let i = 0; i < length; i++) words.push(vocabulary[Math.floor(rand() * vocabulary.length)]!);
    const sentence = words.join(' ');
    sentences.push(`${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`);
  }
  return sentences.join(' ');
}

/** The longest prefix of `text` within `maxTokens` by the family's estimate (binary search). */
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
  /** The foundation model: two models answer the same prompt differently. */
  baseId: string;
  inputTokens: number;
  seed: number;
  /** Answer as content filtered: no text. */
  filtered?: boolean;
}

/**
 * The deterministic answer to a prompt: the same seed, model and prompt give the same text.
 * A summarization prompt (document in `<document>` tags in the last user turn) gets an
 * extractive summary of that document; any other prompt gets filler in its script. The text
 * is cut before the first stop sequence, then to the max output tokens.
 */
export function generate(input: GenerateInput): Generation {
  const { prompt, family, inputTokens } = input;
  if (input.filtered) return { text: '', stop: 'filtered', inputTokens, outputTokens: 0 };
  const doc = documentOf(prompt);
  let text: string;
  if (doc !== undefined) text = extractiveSummary(doc);
  else {
    const last = prompt.turns.at(-1)?.text ?? '';
    const seedText = `${input.baseId}\n${prompt.system}\n${prompt.turns.map((t) => t.text).join('\n')}`;
    text = filler(seedText, isMostlyHangul(last || prompt.system), input.seed);
  }
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
  let outputTokens = estimateTokens(text, family);
  if (outputTokens > prompt.maxTokens) {
    text = cutToTokens(text, prompt.maxTokens, family);
    outputTokens = estimateTokens(text, family);
    stop = 'length';
    stopSequence = undefined;
  }
  return { text, stop, ...(stopSequence !== undefined ? { stopSequence } : {}), inputTokens, outputTokens };
}

/** The text as stream pieces of a few words each (one piece, maybe empty, at least). */
export function pieces(text: string, wordsPerPiece = 3): string[] {
  if (text.length === 0) return [''];
  const words = text.split(/(?<=\s)/);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerPiece) out.push(words.slice(i, i + wordsPerPiece).join(''));
  return out;
}
