import { BodyError, decodeUtf8 } from './body.js';

/** One non-blank line of an NDJSON body: its 1-based number, its text and its size in bytes. */
export interface Line {
  number: number;
  text: string;
  bytes: number;
}

/** A line the API refuses, with its number. */
export class LineError extends BodyError {
  constructor(
    readonly line: number,
    message: string,
    statusCode: number,
  ) {
    super(`line ${line}: ${message}`, statusCode);
  }
}

const NEWLINE = 0x0a;
const CR = 0x0d;

function toLine(number: number, bytes: Buffer): Line | undefined {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
  let text: string;
  try {
    text = decodeUtf8(bytes.subarray(0, end), `line ${number}`);
  } catch {
    throw new LineError(number, 'is not valid UTF-8', 400);
  }
  if (number === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
  return text.trim() === '' ? undefined : { number, text, bytes: end };
}

/**
 * Splits a byte stream into lines as the bytes arrive, holding at most one line (and the
 * chunk it came in) at a time. Blank lines are skipped but counted, so numbers match the
 * client's file; `\r\n` endings and a leading byte-order mark are accepted; a last line needs
 * no newline.
 * @throws LineError (413) for a line longer than `maxLineBytes`, (400) for one that is not UTF-8.
 */
export async function* readLines(
  source: AsyncIterable<Buffer | string>,
  maxLineBytes: number,
  tooLong: string,
): AsyncGenerator<Line> {
  let held: Buffer[] = [];
  let heldBytes = 0;
  let number = 0;
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      number++;
      const piece = buf.subarray(start, nl);
      const bytes = heldBytes === 0 ? piece : Buffer.concat([...held, piece]);
      held = [];
      heldBytes = 0;
      if (bytes.length > maxLineBytes) throw new LineError(number, tooLong, 413);
      const line = toLine(number, bytes);
      if (line) yield line;
      start = nl + 1;
    }
    if (start < buf.length) {
      heldBytes += buf.length - start;
      if (heldBytes > maxLineBytes) throw new LineError(number + 1, tooLong, 413);
      held.push(buf.subarray(start));
    }
  }
  if (heldBytes > 0) {
    const line = toLine(number + 1, Buffer.concat(held));
    if (line) yield line;
  }
}
