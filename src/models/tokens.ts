import type { Family } from './request.js';

/**
 * A fast token estimate per family. Real tokenizers cost megabytes and milliseconds; for
 * chunking and quota reservations a calibrated count by script is within a few percent.
 * CJK text is counted per character: a Hangul syllable is about one token in the
 * Claude/Titan vocabularies and less in the larger Llama 3 / Nova / Cohere ones, while
 * Latin text averages about four characters a token.
 */
interface Rates {
  /** Characters per token for Latin, digits, punctuation. */
  latinCharsPerToken: number;
  /** Tokens per CJK character (Hangul, kana, Han). */
  cjkTokensPerChar: number;
  /** Tokens per character of other scripts (Cyrillic, Greek, Arabic, ...). */
  otherTokensPerChar: number;
}

const LARGE_VOCABULARY: Rates = { latinCharsPerToken: 4.2, cjkTokensPerChar: 0.75, otherTokensPerChar: 0.4 };

const RATES: Readonly<Record<Family, Rates>> = {
  anthropic: { latinCharsPerToken: 3.6, cjkTokensPerChar: 1.0, otherTokensPerChar: 0.5 },
  titan: { latinCharsPerToken: 4.0, cjkTokensPerChar: 1.1, otherTokensPerChar: 0.5 },
  nova: { latinCharsPerToken: 4.2, cjkTokensPerChar: 0.8, otherTokensPerChar: 0.4 },
  llama: { latinCharsPerToken: 4.2, cjkTokensPerChar: 0.75, otherTokensPerChar: 0.4 },
  mistral: { latinCharsPerToken: 3.8, cjkTokensPerChar: 1.2, otherTokensPerChar: 0.5 },
  cohere: { latinCharsPerToken: 4.2, cjkTokensPerChar: 0.8, otherTokensPerChar: 0.4 },
  // Converse-only families: large modern vocabularies, counted like Llama 3 until calibrated.
  openai: LARGE_VOCABULARY,
  deepseek: LARGE_VOCABULARY,
  qwen: LARGE_VOCABULARY,
  writer: LARGE_VOCABULARY,
  google: LARGE_VOCABULARY,
  minimax: LARGE_VOCABULARY,
  moonshot: LARGE_VOCABULARY,
  nvidia: LARGE_VOCABULARY,
  zai: LARGE_VOCABULARY,
};

function isCjk(code: number): boolean {
  return (
    (code >= 0xac00 && code <= 0xd7af) || // Hangul syllables
    (code >= 0x1100 && code <= 0x11ff) || // Hangul jamo
    (code >= 0x3130 && code <= 0x318f) || // Hangul compatibility jamo
    (code >= 0x3040 && code <= 0x30ff) || // Hiragana, Katakana
    (code >= 0x4e00 && code <= 0x9fff) || // CJK unified ideographs
    (code >= 0x3400 && code <= 0x4dbf) || // CJK extension A
    (code >= 0xf900 && code <= 0xfaff) // CJK compatibility ideographs
  );
}

/** Counts characters of a text by script class in one pass. */
export function scriptCounts(text: string): { latin: number; cjk: number; other: number } {
  let latin = 0;
  let cjk = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x250) latin++;
    else if (isCjk(code)) cjk++;
    else if (code >= 0xd800 && code <= 0xdbff) {
      other++; // a surrogate pair (emoji, rare Han) counts once
      i++;
    } else other++;
  }
  return { latin, cjk, other };
}

/**
 * Estimated tokens of `text` for a family.
 * @returns 0 for the empty string, otherwise at least 1.
 */
export function estimateTokens(text: string, family: Family): number {
  if (text.length === 0) return 0;
  const r = RATES[family];
  const { latin, cjk, other } = scriptCounts(text);
  const tokens = latin / r.latinCharsPerToken + cjk * r.cjkTokensPerChar + other * r.otherTokensPerChar;
  return Math.max(1, Math.ceil(tokens));
}

/** True when at least a fifth of the letters are Hangul: the text is Korean for our purposes. */
export function isMostlyHangul(text: string): boolean {
  let hangul = 0;
  let letters = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xac00 && code <= 0xd7af) {
      hangul++;
      letters++;
    } else if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) letters++;
  }
  return letters > 0 && hangul / letters >= 0.2;
}
