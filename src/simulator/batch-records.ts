import { createHash, randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { ModelCatalog } from '../models/catalog.js';
import type { RecordError } from './batch-faults.js';
import { parseS3Uri } from './batch-input.js';
import { SIM_ERRORS, type SimError, type SimulatorControl, simError } from './control.js';
import { converseResponse } from './converse.js';
import { generate } from './generate.js';
import { prepareBody, type Route } from './routes.js';
import { checksumOf, etagOf } from './s3-body.js';
import type { S3Object, S3Store } from './s3-store.js';

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

/**
 * A record checked while the job validates, kept as its line (a view of the input file, no
 * copy) and parsed again when answered: a job of 50,000 records then holds no parsed bodies
 * while it waits, which keeps garbage collection pauses short.
 */
export interface RecordLine {
  recordId: string;
  line: Buffer;
}

/** The record a checked line holds. */
export function recordOf(r: RecordLine): InputRecord {
  const value = JSON.parse(r.line.toString('utf8')) as { modelInput: unknown };
  return { recordId: r.recordId, modelInput: value.modelInput };
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

/**
 * The records of an input file, line by line (a file may be larger than a string can be). A
 * record without a `recordId` gets one, as Bedrock gives it: 11 characters. A line that is
 * not a record yields the message a job failing validation carries, naming the file and line.
 */
export function* recordsOf(file: InputFile): Generator<RecordLine | string> {
  const body = file.body;
  let start = 0;
  let lineNo = 0;
  let count = 0;
  while (start < body.length) {
    let end = body.indexOf(10, start);
    if (end < 0) end = body.length;
    lineNo++;
    const bytes = body.subarray(start, end);
    const line = bytes.toString('utf8').trim();
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
    yield { recordId: id ?? `R${String(count).padStart(10, '0')}`, line: bytes };
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

/** A record's `.out` line, serialized once when it is answered. */
export function outputLine(answer: AnsweredRecord): Buffer {
  return Buffer.from(`${JSON.stringify(answer.line)}\n`, 'utf8');
}

/** Bytes copied between two turns of the event loop while an output file is put together. */
const ASSEMBLE_SLICE_BYTES = 4 * 1024 * 1024;

/**
 * One `.out` file in the making: lines are added a chunk at a time, and its MD5 (the ETag) and
 * CRC32 are kept up to date as they come, so ending a job of 50,000 records never hashes or
 * copies tens of megabytes in one go.
 */
export class OutputFile {
  private readonly parts: Buffer[] = [];
  private readonly md5 = createHash('md5');
  private crc = 0;
  private size = 0;

  constructor(readonly name: string) {}

  /** Appends the lines of one chunk of records. */
  add(lines: readonly Buffer[]): void {
    if (lines.length === 0) return;
    const part = Buffer.concat(lines);
    this.parts.push(part);
    this.md5.update(part);
    this.crc = crc32(part, this.crc);
    this.size += part.length;
  }

  /** The whole file as an S3 object body, copied a slice at a time with turns of the event loop between. */
  async body(key: string): Promise<S3Object> {
    const body = Buffer.allocUnsafe(this.size);
    let at = 0;
    let sinceTurn = 0;
    for (const part of this.parts) {
      part.copy(body, at);
      at += part.length;
      sinceTurn += part.length;
      if (sinceTurn >= ASSEMBLE_SLICE_BYTES) {
        sinceTurn = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(this.crc >>> 0);
    return objectOf(key, body, `"${this.md5.copy().digest('hex')}"`, crc.toString('base64'));
  }
}

function objectOf(key: string, body: Buffer, etag: string, crc: string): S3Object {
  return {
    key,
    body,
    etag,
    lastModified: new Date(),
    contentType: 'application/octet-stream',
    checksum: { algorithm: 'crc32', value: crc },
    metadata: {},
  };
}

/**
 * Writes a job's output: `<output uri>/<job id>/<input file name>.out` per input file, one
 * line per processed record, and `<output uri>/<job id>/manifest.json.out`.
 * @returns false when the output bucket is gone
 */
export async function writeOutput(
  s3: S3Store,
  outputUri: string,
  jobId: string,
  outputs: readonly OutputFile[],
  manifest: Manifest,
): Promise<boolean> {
  const { bucket, key } = parseS3Uri(outputUri);
  const folder = `${key === '' || key.endsWith('/') ? key : `${key}/`}${jobId}/`;
  for (const file of outputs) if (!s3.put(bucket, await file.body(`${folder}${file.name}.out`))) return false;
  const body = Buffer.from(`${JSON.stringify(manifest)}\n`, 'utf8');
  return s3.put(
    bucket,
    objectOf(`${folder}manifest.json.out`, body, etagOf(body), checksumOf('crc32', body)!),
  );
}
