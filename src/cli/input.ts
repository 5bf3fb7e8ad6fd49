import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { CliError } from './context.js';

/** One job read from the input, with where it came from for error messages. */
export interface InputJob {
  where: string;
  job: Record<string, unknown>;
}

const DOC_EXTENSIONS = new Set(['.txt', '.md']);

/** A job id made from a file name: ids may not contain `:` and should stay readable. */
export function idFromFile(batchId: string, file: string): string {
  return `${batchId}.${basename(file).replace(/[^\w.\-\u00C0-\uFFFF]+/g, '_')}`.slice(0, 200);
}

/**
 * Reads jobs from a JSONL file, standard input (`-`), or a directory of .txt/.md documents
 * (one summarize job per file), yielding them one at a time so large inputs stream.
 * @throws CliError naming the file and line of input that is not a JSON object
 */
export async function* readJobs(source: string, batchId: string): AsyncGenerator<InputJob> {
  if (source !== '-') {
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new CliError(`input not found: ${source}`);
    if (info.isDirectory()) {
      const files = (await readdir(source))
        .filter((f) => DOC_EXTENSIONS.has(extname(f).toLowerCase()))
        .sort();
      if (files.length === 0) throw new CliError(`no .txt or .md documents in ${source}`);
      for (const file of files) {
        const document = await readFile(join(source, file), 'utf8');
        yield {
          where: `${source}/${file}`,
          job: { id: idFromFile(batchId, file), task: 'summarize', document, metadata: { file } },
        };
      }
      return;
    }
  }
  const input = source === '-' ? process.stdin : createReadStream(source, 'utf8');
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let job: unknown;
    try {
      job = JSON.parse(line);
    } catch (e) {
      throw new CliError(
        `${source === '-' ? 'stdin' : source} line ${n}: not valid JSON (${(e as Error).message})`,
      );
    }
    if (typeof job !== 'object' || job === null || Array.isArray(job))
      throw new CliError(`${source === '-' ? 'stdin' : source} line ${n}: must be a JSON object (one job)`);
    yield { where: `line ${n}`, job: job as Record<string, unknown> };
  }
}
