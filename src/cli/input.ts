import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { idProblem } from '../queue/ids.js';
import { CliError } from './context.js';

/** One job read from the input, with where it came from for error messages. */
export interface InputJob {
  where: string;
  job: Record<string, unknown>;
}

const DOC_EXTENSIONS = new Set(['.txt', '.md']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly: bytes that are not UTF-8 are an error, never replaced with U+FFFD. */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The job id of a document file: `<batch>.<file name>` when that is a valid id, so ids stay
 * readable; otherwise (a name with `:`, control characters, bytes that are not UTF-8, or too
 * long) a digest of the name's bytes, so two different files never share an id. The name is
 * kept in the job's `metadata.file` either way. Deterministic, so enqueueing the directory
 * again into the same batch finds the same ids.
 */
export function idFromFile(batchId: string, name: Uint8Array): string {
  const text = decodeUtf8(name);
  const readable = text === undefined ? undefined : `${batchId}.${text}`;
  if (readable !== undefined && idProblem(readable, 'job') === undefined) return readable;
  const digest = createHash('sha256').update(batchId).update('\0').update(name).digest('hex');
  const hashed = `${batchId}.file-${digest.slice(0, 32)}`;
  return idProblem(hashed, 'job') === undefined ? hashed : `file-${digest}`;
}

/**
 * Splits a byte stream into lines (LF or CRLF) without decoding it, so each line can be checked
 * as UTF-8 on its own and an error can name its line number.
 */
export async function* byteLines(input: Readable): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let buf = Buffer.concat([rest, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    let nl = buf.indexOf(0x0a);
    while (nl !== -1) {
      const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      yield buf.subarray(0, end);
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    rest = buf;
  }
  if (rest.length > 0) yield rest[rest.length - 1] === 0x0d ? rest.subarray(0, -1) : rest;
}

async function* readDirectory(dir: string, batchId: string): AsyncGenerator<InputJob> {
  const entries = (await readdir(dir, { withFileTypes: true, encoding: 'buffer' }))
    .filter((e) => e.isFile() && DOC_EXTENSIONS.has(extname(e.name.toString('latin1')).toLowerCase()))
    .sort((a, b) => Buffer.compare(a.name, b.name));
  if (entries.length === 0) throw new CliError(`no .txt or .md documents in ${dir}`);
  for (const entry of entries) {
    const shown = entry.name.toString('utf8');
    // A Buffer path reaches files whose names are not UTF-8, which a string path cannot.
    const path = Buffer.concat([Buffer.from(join(dir, '/')), entry.name]);
    const document = decodeUtf8(await readFile(path));
    if (document === undefined) throw new CliError(`${dir}/${shown}: is not valid UTF-8 text`);
    yield {
      where: `${dir}/${shown}`,
      job: { id: idFromFile(batchId, entry.name), task: 'summarize', document, metadata: { file: shown } },
    };
  }
}

/**
 * Reads jobs from a JSONL file, standard input (`-`), or a directory of .txt/.md documents
 * (one summarize job per file), yielding them one at a time so large inputs stream.
 * @throws CliError naming the file and line of input that is not UTF-8 or not a JSON object
 */
export async function* readJobs(source: string, batchId: string): AsyncGenerator<InputJob> {
  if (source !== '-') {
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new CliError(`input not found: ${source}`);
    if (info.isDirectory()) {
      yield* readDirectory(source, batchId);
      return;
    }
  }
  const name = source === '-' ? 'stdin' : source;
  const input = source === '-' ? process.stdin : createReadStream(source);
  let n = 0;
  for await (const bytes of byteLines(input)) {
    n++;
    const line = decodeUtf8(bytes);
    if (line === undefined) throw new CliError(`${name} line ${n}: is not valid UTF-8`);
    if (line.trim() === '') continue;
    let job: unknown;
    try {
      job = JSON.parse(line);
    } catch (e) {
      throw new CliError(`${name} line ${n}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof job !== 'object' || job === null || Array.isArray(job))
      throw new CliError(`${name} line ${n}: must be a JSON object (one job)`);
    yield { where: `line ${n}`, job: job as Record<string, unknown> };
  }
}
