/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests that
 * scrape `/metrics`: it throws on anything a Prometheus server would refuse or misread, so a
 * test that parses a scrape also checks the format, with or without `promtool` on the machine.
 *
 * Checked: HELP/TYPE lines, metric and label names, quoted label values and their escapes,
 * sample values (floats, NaN, ±Inf) and optional timestamps; a TYPE before the family's first
 * sample and at most once; each family's samples together; sample names that belong to their
 * family (`_bucket`/`_sum`/`_count` for histograms); no series twice; counters not negative;
 * histogram buckets cumulative, with `le="+Inf"` equal to `_count`.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
import { spawnSync } from 'node:child_process';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class ExpositionError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * A sample value as Prometheus reads it (Go's `ParseFloat`): a decimal float, or NaN and ±Inf in
 * any case (prom-client writes `Nan`).
 */
function parseValue(text: string, line: number): number {
  if (/^nan$/i.test(text)) return Number.NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    throw new ExpositionError(line, `bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `text` at `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new ExpositionError(line, 'label without "="');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new ExpositionError(line, `bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new ExpositionError(line, `label ${name} twice`);
    if (text[eq + 1] !== '"') throw new ExpositionError(line, `label ${name}: value not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] !== '\\') {
        value += text[j];
        continue;
      }
      const next = text[++j];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw new ExpositionError(line, `label ${name}: bad escape \\${next ?? ''}`);
    }
    if (j >= text.length) throw new ExpositionError(line, `label ${name}: unterminated value`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new ExpositionError(line, `expected "," or "}" after label ${name}`);
  }
}

/** The family a sample name belongs to, given the families declared so far. */
function familyOf(sample: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  const own = families.get(sample);
  if (own && own.type !== 'histogram') return own;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const family = families.get(sample.slice(0, -suffix.length));
    if (family?.type === 'histogram' || (family?.type === 'summary' && suffix !== '_bucket')) return family;
  }
  return undefined;
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without "le"`);
      entry.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name.endsWith('_count')) entry.count = s.value;
  }
  for (const [key, { buckets, count }] of series) {
    buckets.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < buckets.length; i++)
      if (buckets[i]![1] < buckets[i - 1]![1])
        throw new Error(`${family.name}${key}: buckets not cumulative`);
    const inf = buckets.at(-1);
    if (!inf || inf[0] !== Number.POSITIVE_INFINITY) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (count !== inf[1]) throw new Error(`${family.name}${key}: +Inf bucket ${inf[1]} ≠ _count ${count}`);
  }
}

/**
 * Parses a scrape, checking it as described at the top of this file.
 * @throws ExpositionError (or Error for a histogram) naming the line or family at fault.
 */
export function parseExposition(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  const finished = new Set<string>();
  let current: MetricFamily | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    if (raw.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
    if (meta) {
      const [, keyword, name, rest] = meta as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new ExpositionError(line, `bad metric name ${name}`);
      const family = families.get(name) ?? { name, type: 'untyped' as MetricType, samples: [] };
      if (family.samples.length > 0)
        throw new ExpositionError(line, `${keyword} of ${name} after its samples`);
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) throw new ExpositionError(line, `unknown type ${rest}`);
        if (families.has(name) && family.type !== 'untyped')
          throw new ExpositionError(line, `TYPE of ${name} twice`);
        family.type = rest as MetricType;
      } else {
        if (family.help !== undefined) throw new ExpositionError(line, `HELP of ${name} twice`);
        family.help = rest;
      }
      families.set(name, family);
      continue;
    }
    if (raw.startsWith('#')) continue;
    const nameEnd = raw.search(/[{ ]/);
    if (nameEnd <= 0) throw new ExpositionError(line, 'a sample needs a name and a value');
    const name = raw.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new ExpositionError(line, `bad metric name ${name}`);
    const [labels, after] = raw[nameEnd] === '{' ? parseLabels(raw, nameEnd, line) : [{}, nameEnd];
    const fields = raw.slice(after).trim().split(/ +/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === '')
      throw new ExpositionError(line, 'expected a value and at most a timestamp');
    const value = parseValue(fields[0]!, line);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1]))
      throw new ExpositionError(line, 'bad timestamp');
    const family = familyOf(name, families);
    if (!family) throw new ExpositionError(line, `sample ${name} has no TYPE before it`);
    if (current !== family) {
      if (current) finished.add(current.name);
      if (finished.has(family.name))
        throw new ExpositionError(line, `samples of ${family.name} are not together`);
      current = family;
    }
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new ExpositionError(line, `series ${id} twice`);
    seen.add(id);
    if (family.type === 'counter' && !(value >= 0))
      throw new ExpositionError(line, `counter ${name} is ${value}`);
    family.samples.push({ name, labels, value });
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/**
 * The sum of the samples named `name` whose labels include `labels` (one series when the labels
 * name it whole), or undefined when no sample matches.
 */
export function sampleSum(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let sum: number | undefined;
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        sum = (sum ?? 0) + s.value;
    }
  }
  return sum;
}

/**
 * `promtool check metrics` on the text when promtool is on the PATH: `undefined` without it,
 * else its complaints (empty when it has none).
 */
export function promtoolProblems(text: string): string[] | undefined {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) return undefined;
  const out = `${run.stdout}${run.stderr}`.trim();
  return out === '' ? [] : out.split('\n');
}
