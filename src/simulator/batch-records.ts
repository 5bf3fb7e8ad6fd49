import { randomUUID } from 'node:crypto';
import type { ModelCatalog } from '../models/catalog.js';
import type { RecordError } from './batch-faults.js';
import { parseS3Uri } from './batch-input.js';
import { SIM_ERRORS, type SimError, type SimulatorControl, simError } from './control.js';
import { converseResponse } from './converse.js';
import { generate } from './generate.js';
import { prepareBody, type Route } from './routes.js';
import { checksumOf, etagOf } from './s3-body.js';
import type { S3Store } from './s3-store.js';

/**
 * The records of a model invocation job: input files read from the simulated S3, each
 * record answered by the runtime's own checks, generator and native (or Converse) answer,
 * and the output written back as Bedrock writes it (`docs/bedrock-wire.md#batch-output`).
 */

/** One input file of a job. */
export interface InputFile {
  bucket: string;
  key: string;
  /** The file name, the last part of its key: the output is `<name>.out`. */
  name: string;
  body: Buffer;
}

/** One line of an input file. */
export interface InputRecord {
  recordId: string;
  modelInput: unknown;
}

const invalidInput = (message: string): SimError => simError('ValidationException', message);

/**
 * The input files an `s3Uri` names: the object itself, or every `.jsonl` object under it taken
 * as a folder.
 * @returns a ValidationException when the bucket or the files are not there
 */
export function inputFiles(s3: S3Store, uri: string): InputFile[] | SimError {
  const { bucket, key } = parseS3Uri(uri);
  if (!s3.hasBucket(bucket))
    return invalidInput(`The provided S3 URI ${uri} is not valid: the bucket ${bucket} does not exist.`);
  const file = (k: string, body: Buffer): InputFile => ({
    bucket,
    key: k,
    name: k.split('/').at(-1) ?? k,
    body,
  });
  const object = key && !key.endsWith('/') ? s3.get(bucket, key) : undefined;
  if (object) return [file(key, object.body)];
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const files: InputFile[] = [];
  let token: string | undefined;
  do {
    const page = s3.list(bucket, { prefix, maxKeys: 1000, ...(token ? { continuationToken: token } : {}) });
    for (const o of page?.contents ?? []) if (o.key.endsWith('.jsonl')) files.push(file(o.key, o.body));
    token = page?.nextContinuationToken;
  } while (token);
  if (files.length === 0)
    return invalidInput(`The provided S3 URI ${uri} does not name a .jsonl file or a folder holding one.`);
  return files;
}

/** Records (non-empty lines) in an input file, counted without parsing them. */
export function countRecords(body: Buffer): number {
  let n = 0;
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf(10, start);
    if (end < 0) end = body.length;
    for (let i = start; i < end; i++) {
      const c = body[i]!;
      if (c !== 13 && c !== 32 && c !== 9) {
        n++;
        break;
      }
    }
    start = end + 1;
  }
  return n;
}

/**
 * The records of an input file, line by line (a file may be larger than a string can be). A
 * record without a `recordId` gets one, as Bedrock gives it: 11 characters. A line that is
 * not a record yields the message a job failing validation carries, naming the file and line.
 */
export function* recordsOf(file: InputFile): Generator<InputRecord | string> {
  const body = file.body;
  let start = 0;
  let lineNo = 0;
  let count = 0;
  while (start < body.length) {
    let end = body.indexOf(10, start);
    if (end < 0) end = body.length;
    lineNo++;
    const line = body.subarray(start, end).toString('utf8').trim();
    start = end + 1;
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
    const input = record && 'modelInput' in record ? record.modelInput : undefined;
    const id = record && 'recordId' in record ? record.recordId : undefined;
    if (typeof input !== 'object' || input === null || (id !== undefined && typeof id !== 'string')) {
      yield `Line ${lineNo} of s3://${file.bucket}/${file.key} is not a JSON object with a modelInput object and an optional recordId string.`;
      return;
    }
    count++;
    yield { recordId: id ?? `R${String(count).padStart(10, '0')}`, modelInput: input };
  }
}

/** One answered record: its `.out` line and what it used. */
export interface AnsweredRecord {
  line: Record<string, unknown>;
  ok: boolean;
  inputTokens: number;
  outputTokens: number;
}

/** What answering a record needs: the runtime's checks see the same models and state. */
export interface RecordDeps {
  control: SimulatorControl;
  catalog: ModelCatalog;
  seed: number;
}

const failed = (record: InputRecord, error: RecordError): AnsweredRecord => ({
  line: { recordId: record.recordId, modelInput: record.modelInput, error },
  ok: false,
  inputTokens: 0,
  outputTokens: 0,
});

/**
 * Answers one record as InvokeModel (or Converse) would answer its `modelInput` on `route`'s
 * model: the same checks, the same generator, the same native answer. A body the model
 * refuses, or a record a fault picks, comes back with an `error` instead of `modelOutput`.
 */
export function answerRecord(
  record: InputRecord,
  route: Route,
  fault: RecordError | undefined,
  deps: RecordDeps,
): AnsweredRecord {
  if (fault) return failed(record, fault);
  const call = prepareBody(route, record.modelInput, deps.control, deps.catalog);
  if ('error' in call)
    return failed(record, { errorCode: SIM_ERRORS[call.error.name], errorMessage: call.error.message });
  const g = generate({
    prompt: call.prompt,
    family: call.family,
    baseId: call.ctx.baseId,
    inputTokens: call.ctx.inputTokens,
    seed: deps.seed,
  });
  const modelOutput =
    route.operation === 'converse'
      ? converseResponse(g, 0)
      : call.format!.respond(g, { requestId: randomUUID(), baseId: call.ctx.baseId, prompt: call.prompt });
  return {
    line: { recordId: record.recordId, modelInput: record.modelInput, modelOutput },
    ok: true,
    inputTokens: g.inputTokens,
    outputTokens: g.outputTokens,
  };
}

/** What a job's `manifest.json.out` says. */
export interface Manifest {
  totalRecordCount: number;
  processedRecordCount: number;
  successRecordCount: number;
  errorRecordCount: number;
  inputTokenCount: number;
  outputTokenCount: number;
}

/**
 * Writes a job's output: `<output uri>/<job id>/<input file name>.out` per input file, one
 * line per processed record, and `<output uri>/<job id>/manifest.json.out`.
 * @returns false when the output bucket is gone
 */
export function writeOutput(
  s3: S3Store,
  outputUri: string,
  jobId: string,
  outputs: { name: string; lines: Record<string, unknown>[] }[],
  manifest: Manifest,
): boolean {
  const { bucket, key } = parseS3Uri(outputUri);
  const folder = `${key === '' || key.endsWith('/') ? key : `${key}/`}${jobId}/`;
  const put = (name: string, text: string): boolean => {
    const body = Buffer.from(text, 'utf8');
    return s3.put(bucket, {
      key: `${folder}${name}`,
      body,
      etag: etagOf(body),
      lastModified: new Date(),
      contentType: 'application/octet-stream',
      checksum: { algorithm: 'crc32', value: checksumOf('crc32', body)! },
      metadata: {},
    });
  };
  for (const { name, lines } of outputs) {
    const text = lines.map((l) => `${JSON.stringify(l)}\n`).join('');
    if (!put(`${name}.out`, text)) return false;
  }
  return put('manifest.json.out', `${JSON.stringify(manifest)}\n`);
}
