import { createHash } from 'node:crypto';
import { createReadStream, fstatSync } from 'node:fs';
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

/** A Buffer path reaches files whose names are not UTF-8, which a string path cannot. */
function entryPath(dir: string, name: Buffer): Buffer {
  return Buffer.concat([Buffer.from(join(dir, '/')), name]);
}

/**
 * The `.txt`/`.md` documents of a directory, in byte order of their names: regular files, and
 * symbolic links to regular files. Anything else with such a name (a directory called `x.txt`,
 * a link to one, a broken link) is not a document and is left out.
 */
async function documentsIn(dir: string): Promise<Buffer[]> {
  const named = (await readdir(dir, { withFileTypes: true, encoding: 'buffer' })).filter((e) =>
    DOC_EXTENSIONS.has(extname(e.name.toString('latin1')).toLowerCase()),
  );
  const docs: Buffer[] = [];
  for (const e of named) {
    const isFile = e.isSymbolicLink()
      ? ((await stat(entryPath(dir, e.name)).catch(() => undefined))?.isFile() ?? false)
      : e.isFile();
    if (isFile) docs.push(e.name);
  }
  return docs.sort(Buffer.compare);
}

/** A read error of the input as a line for people: `x.jsonl: cannot be read (EACCES)`. */
function unreadable(name: string, e: unknown): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return new CliError(`${name}: is a directory, not a file of jobs`);
  return new CliError(`${name}: cannot be read (${code ?? (e instanceof Error ? e.message : String(e))})`);
}

async function* readDirectory(dir: string, batchId: string): AsyncGenerator<InputJob> {
  const names = await documentsIn(dir).catch((e: unknown) => {
    throw unreadable(dir, e);
  });
  if (names.length === 0) throw new CliError(`no .txt or .md documents in ${dir}`);
  for (const name of names) {
    const shown = name.toString('utf8');
    const bytes = await readFile(entryPath(dir, name)).catch((e: unknown) => {
      throw unreadable(`${dir}/${shown}`, e);
    });
    const document = decodeUtf8(bytes);
    if (document === undefined) throw new CliError(`${dir}/${shown}: is not valid UTF-8 text`);
    yield {
      where: `${dir}/${shown}`,
      job: { id: idFromFile(batchId, name), task: 'summarize', document, metadata: { file: shown } },
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
  // Node reads a directory given as stdin as an empty input, without an error: ask first.
  if (source === '-' && isDirectoryFd(0)) throw new CliError('stdin: is a directory, not a file of jobs');
  const input = source === '-' ? process.stdin : createReadStream(source);
  let n = 0;
  const lines = byteLines(input)[Symbol.asyncIterator]();
  for (;;) {
    const next = await lines.next().catch((e: unknown) => {
      throw unreadable(name, e);
    });
    if (next.done) return;
    const bytes = next.value;
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

function isDirectoryFd(fd: number): boolean {
  try {
    return fstatSync(fd).isDirectory();
  } catch {
    return false;
  }
}
