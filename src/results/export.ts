import { Readable } from 'node:stream';
import type { ResultRecord } from './record.js';
import { DEFAULT_PAGE_SIZE, type ResultStore } from './store.js';

const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  /** Results read per round trip; default 500. */
  pageSize?: number;
}

/** CSV columns, in order. */
export const CSV_COLUMNS = [
  'id',
  'status',
  'modelId',
  'inputTokens',
  'outputTokens',
  'costUsd',
  'stopReason',
  'text',
  'error',
] as const;

/** RFC 4180 line break. */
const CRLF = '\r\n';

/** One CSV field, quoted when it holds a comma, quote or line break (RFC 4180 §2.6–2.7). */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One result as a CSV line (with its CRLF). */
export function csvRow(r: ResultRecord): string {
  const values = [
    r.id,
    r.status,
    r.modelId,
    r.usage.inputTokens,
    r.usage.outputTokens,
    r.costUsd,
    r.stopReason,
    r.text,
    r.error,
  ];
  return values.map(csvField).join(',') + CRLF;
}

/**
 * A batch's results as text lines: JSONL (one result record per line) or CSV with a header.
 * Reads the batch a page at a time, so memory stays flat whatever the batch size.
 */
export async function* resultLines(
  store: ResultStore,
  batchId: string,
  options: ExportOptions,
): AsyncGenerator<string> {
  if (options.format === 'csv') yield CSV_COLUMNS.join(',') + CRLF;
  for await (const page of store.pages(batchId, options.pageSize ?? DEFAULT_PAGE_SIZE)) {
    // One chunk per page keeps the number of stream writes low for big batches.
    yield page.map((r) => (options.format === 'csv' ? csvRow(r) : `${JSON.stringify(r)}\n`)).join('');
  }
}

/**
 * A batch's results as a byte stream (UTF-8) to pipe to a file or an HTTP reply;
 * `Readable.pipe`/`pipeline` apply backpressure, so Redis is read only as fast as it is written.
 */
export function streamResults(store: ResultStore, batchId: string, options: ExportOptions): Readable {
  return Readable.from(resultLines(store, batchId, options), { objectMode: false, encoding: 'utf8' });
}
