import type { ModelCatalog } from './catalog.js';
import { isConverseOnly, type Lifecycle } from './info.js';
import { NATIVE_FIELDS } from './native-fields.js';
import { type Family, isNativeFamily, NATIVE_FAMILIES } from './request.js';

/** One catalog model as `models --json` and the README show it. */
export interface CatalogRow {
  id: string;
  name: string;
  family: Family;
  aliases: string[];
  contextWindow: number;
  maxOutputTokens: number;
  priceInPer1k: number;
  priceOutPer1k: number;
  /** Default on-demand quotas (AWS's defaults; config `models.<id>` overrides them). */
  rpm: number;
  tpm: number;
  /** Callable only through a cross-region profile (`us.<id>`, ...). */
  profileOnly: boolean;
  /**
   * A job may call it with `api: "converse"` (every family we know has a Converse mapping);
   * without a system prompt there, the worker opens the first user turn with it.
   */
  converse: { supported: boolean; systemPrompt: boolean; only: boolean };
  /** The fields `native.<family>` adds beyond the shared params. */
  nativeFields: string[];
  lifecycle: Lifecycle;
  /** LEGACY: the day AWS retires it. */
  eolDate?: string;
}

/** Every catalog model, built-in first. */
export function catalogRows(catalog: ModelCatalog): CatalogRow[] {
  return catalog.list().map((m) => ({
    id: m.id,
    name: m.name,
    family: m.family,
    aliases: [...m.aliases],
    contextWindow: m.contextWindow,
    maxOutputTokens: m.maxOutputTokens,
    priceInPer1k: m.priceInPer1k,
    priceOutPer1k: m.priceOutPer1k,
    rpm: m.rpm,
    tpm: m.tpm,
    profileOnly: m.profileOnly,
    converse: { supported: true, systemPrompt: m.converse.system, only: isConverseOnly(m) },
    nativeFields: isNativeFamily(m.family) ? NATIVE_FIELDS[m.family].map((f) => f.name) : [],
    lifecycle: m.lifecycle,
    ...(m.eolDate ? { eolDate: m.eolDate } : {}),
  }));
}

const count = (n: number): string => n.toLocaleString('en-US');
const code = (s: string): string => `\`${s}\``;

/**
 * The README's model tables (`bedrock-jobs models --markdown`): one row per model, then the
 * native fields of each family. `test/unit/readme-model-table.test.ts` keeps the README equal
 * to this for the built-in catalog.
 */
export function catalogMarkdown(catalog: ModelCatalog): string {
  const lines = [
    '| model | id (alias) | family | context | max output | $ per 1K in / out | default rpm / tpm | on demand | Converse | lifecycle |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of catalogRows(catalog)) {
    const alias = r.aliases.length > 0 ? ` (${r.aliases.map(code).join(', ')})` : '';
    lines.push(
      `| ${r.name} | ${code(r.id)}${alias} | ${r.family} | ${count(r.contextWindow)} | ${count(r.maxOutputTokens)} | ${r.priceInPer1k} / ${r.priceOutPer1k} | ${count(r.rpm)} / ${count(r.tpm)} | ${r.profileOnly ? 'profile only' : 'yes'} | ${r.converse.only ? 'only' : !r.converse.supported ? 'no' : r.converse.systemPrompt ? 'yes' : 'yes, system prompt in the first turn'} | ${r.lifecycle}${r.eolDate ? ` (EOL ${r.eolDate})` : ''} |`,
    );
  }
  lines.push('', '| family | fields `native.<family>` adds |', '| --- | --- |');
  for (const family of NATIVE_FAMILIES) {
    const fields = NATIVE_FIELDS[family]
      .map((f) => `${code(f.name)}${f.note ? ` (${f.note})` : ''}`)
      .join(', ');
    lines.push(`| ${family} | ${fields || 'none beyond the shared params'} |`);
  }
  return lines.join('\n');
}
