import { createHash } from 'node:crypto';

/**
 * Names of what the offline lane creates on AWS, all derived from the batch id and the part
 * number alone: a coordinator that crashed and runs again names the same file, job and token,
 * so nothing is uploaded beside or submitted twice (`docs/offline-lane.md#recovery`).
 */

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Digits of a record id after its `R`: Bedrock's record ids are 11 alphanumeric characters. */
const RECORD_DIGITS = 10;

/** The record id of the `index`-th record of a part's input file. */
export function recordId(index: number): string {
  return `R${String(index).padStart(RECORD_DIGITS, '0')}`;
}

/** The index a record id stands for, or undefined for an id the lane never wrote. */
export function recordIndex(id: string): number | undefined {
  const m = /^R(\d{10})$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

/**
 * The invocation job's name: at most 63 characters of `[a-zA-Z0-9-]`, unique per batch and part.
 * Batch ids may hold any letter, so the name carries a digest of it rather than the id itself.
 */
export function invocationJobName(batchId: string, part: number): string {
  return `bj-${sha256(batchId).slice(0, 24)}-p${part}`;
}

/**
 * CreateModelInvocationJob's `clientRequestToken`: the same batch, model and part always give
 * the same token, so Bedrock answers a repeated create with the job it made the first time.
 */
export function clientRequestToken(batchId: string, modelId: string, part: number): string {
  return `bj${sha256(`${batchId}\n${modelId}\n${part}`).slice(0, 62)}`;
}

/** Where one part's files live in the bucket: the input file, and the folder Bedrock writes to. */
export interface PartKeys {
  inputKey: string;
  outputPrefix: string;
}

/**
 * Keys of one part under the configured prefix: `<prefix><readable batch id>-<digest>/p<n>/`.
 * The readable part keeps letters, digits, `.`, `_` and `-` of the batch id (at most 40), for
 * whoever browses the bucket; the digest keeps two batches apart whatever their ids.
 */
export function partKeys(prefix: string, batchId: string, part: number): PartKeys {
  const readable = batchId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
  const folder = `${prefix}${readable}-${sha256(batchId).slice(0, 12)}/p${part}/`;
  return { inputKey: `${folder}records.jsonl`, outputPrefix: `${folder}out/` };
}

/** `s3://bucket/key`. */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The job id at the end of an invocation job's ARN (`…:model-invocation-job/<id>`). */
export function jobIdOf(jobArn: string): string {
  return jobArn.slice(jobArn.lastIndexOf('/') + 1);
}

/**
 * Where Bedrock writes a job's results: `<output>/<job id>/<input file name>.out`, and the
 * job's counts in `manifest.json.out` beside it.
 */
export function outputKeys(keys: PartKeys, jobArn: string): { records: string; manifest: string } {
  const folder = `${keys.outputPrefix}${jobIdOf(jobArn)}/`;
  const inputName = keys.inputKey.slice(keys.inputKey.lastIndexOf('/') + 1);
  return { records: `${folder}${inputName}.out`, manifest: `${folder}manifest.json.out` };
}

/**
 * One record of a part, as its list holds it: a job id for a job's one call, or
 * `<job id>:<k>/<n>` for chunk k of the n chunks of a document summarized in parts. Job ids
 * never hold `:` (docs/ids.md), so the last `:` marks a chunk.
 */
export interface RecordEntry {
  jobId: string;
  chunk?: { index: number; count: number };
}

/** The list entry of chunk `index` of `count` of a job's document. */
export function chunkEntry(jobId: string, index: number, count: number): string {
  return `${jobId}:${index}/${count}`;
}

/** What a list entry stands for; see {@link RecordEntry}. */
export function parseEntry(entry: string): RecordEntry {
  const at = entry.lastIndexOf(':');
  const m = at < 0 ? null : /^(\d+)\/(\d+)$/.exec(entry.slice(at + 1));
  if (!m) return { jobId: entry };
  return { jobId: entry.slice(0, at), chunk: { index: Number(m[1]), count: Number(m[2]) } };
}

/** The distinct job ids of some entries, in order of first appearance. */
export function jobIdsOf(entries: readonly string[]): string[] {
  return [...new Set(entries.map((e) => parseEntry(e).jobId))];
}
