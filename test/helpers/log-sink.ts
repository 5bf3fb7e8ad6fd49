import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogOptions } from '../../src/log.js';

export interface LogSink {
  /** The service's own logger (same redaction as in production), writing here. */
  readonly logger: Logger;
  /** Every line written so far, raw. */
  readonly lines: string[];
  /** The lines as objects. */
  entries(): Record<string, unknown>[];
}

/** A logger made by `createLogger` whose JSON lines are kept in memory for a test to read. */
export function logSink(options: Omit<LogOptions, 'destination'> = {}): LogSink {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger({ ...options, destination }),
    lines,
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
