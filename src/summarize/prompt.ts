import { type Config, ConfigSchema } from '../config.js';
import {
  CONVERSE_ONLY_FAMILIES,
  type Family,
  type GenerationParams,
  type ModelRequest,
  type NativeOverrides,
} from '../models/request.js';
import { scriptCounts } from '../models/tokens.js';

/**
 * Summarization prompts per family. Every template wraps the document in `<document>` tags:
 * models follow delimited input better, and the simulator recognises the tags to answer
 * with an extractive summary of exactly that text.
 */
export interface SummaryTemplate {
  system: string;
  /** `{document}` and `{language}` are replaced. */
  instruction: string;
}

const BASE: SummaryTemplate = {
  system:
    'You write faithful, concise summaries. Keep names, numbers, dates and obligations exactly as written. Never add facts.',
  instruction:
    'Summarize the following document in {language}. Answer with the summary only.\n\n<document>\n{document}\n</document>',
};

/** Defaults shipped per family; config `summarize.templates.<family>` overrides either field. */
const DEFAULT_TEMPLATES: Readonly<Record<Family, SummaryTemplate>> = {
  // The Converse-only families get the base prompt through Converse's own roles.
  ...(Object.fromEntries(CONVERSE_ONLY_FAMILIES.map((f) => [f, BASE])) as Record<
    (typeof CONVERSE_ONLY_FAMILIES)[number],
    SummaryTemplate
  >),
  anthropic: BASE,
  nova: BASE,
  cohere: BASE,
  llama: BASE,
  // Titan has no system role: its adapter prepends the system text to the transcript.
  titan: BASE,
  mistral: {
    system: BASE.system,
    instruction:
      'Summarize the following document in {language}. Be concise and answer with the summary only.\n\n<document>\n{document}\n</document>',
  },
};

/** `summarize` settings when the caller passes no config: the schema's defaults. */
const SUMMARIZE_DEFAULTS = ConfigSchema.parse({}).summarize;

/** Partial summaries of one long document are merged with this instruction. */
const REDUCE_INSTRUCTION =
  'The following are summaries of consecutive parts of one document. Merge them into one summary in {language}. Answer with the summary only.\n\n<document>\n{document}\n</document>';

/** The language a summary should be written in, from the dominant script of the text. */
export function detectLanguage(text: string): string {
  const sample = text.length > 20_000 ? text.slice(0, 20_000) : text;
  let hangul = 0;
  let kana = 0;
  let han = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c >= 0xac00 && c <= 0xd7af) hangul++;
    else if (c >= 0x3040 && c <= 0x30ff) kana++;
    else if (c >= 0x4e00 && c <= 0x9fff) han++;
  }
  const { latin } = scriptCounts(sample);
  const letters = Math.max(1, latin * 0.25 + hangul + kana + han);
  if (hangul / letters > 0.2) return 'Korean';
  if (kana / letters > 0.1) return 'Japanese';
  if (han / letters > 0.2) return 'Chinese';
  return 'English';
}

function templateFor(family: Family, config?: Pick<Config, 'summarize'>): SummaryTemplate {
  const custom = config?.summarize.templates[family];
  const base = DEFAULT_TEMPLATES[family];
  return { system: custom?.system ?? base.system, instruction: custom?.instruction ?? base.instruction };
}

function fill(instruction: string, document: string, language: string): string {
  // Replace {language} first so a document containing "{language}" is left as written.
  return instruction.replaceAll('{language}', language).replace('{document}', () => document);
}

export interface SummaryPromptInput {
  document: string;
  family: Family;
  language?: string;
  /** True when `document` is the concatenation of partial summaries (the reduce step). */
  reduce?: boolean;
  params?: GenerationParams;
  native?: NativeOverrides;
  config?: Pick<Config, 'summarize'>;
}

/** The unified request that asks a model of `family` for a summary of `document`. */
export function buildSummaryRequest(input: SummaryPromptInput): ModelRequest {
  const template = templateFor(input.family, input.config);
  const language = input.language ?? detectLanguage(input.document);
  const instruction = input.reduce ? REDUCE_INSTRUCTION : template.instruction;
  const maxTokens =
    input.params?.maxTokens ?? (input.config?.summarize ?? SUMMARIZE_DEFAULTS).maxOutputTokens;
  return {
    system: template.system,
    messages: [{ role: 'user', content: fill(instruction, input.document, language) }],
    params: { ...input.params, maxTokens },
    ...(input.native ? { native: input.native } : {}),
  };
}
