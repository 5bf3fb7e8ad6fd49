import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

/** Paths that never reach a log line: credentials, and prompt/output text unless asked for. */
const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'apiToken',
  '*.apiToken',
  'token',
  '*.token',
  'cookie',
  '*.cookie',
  'headers.cookie',
  'secretAccessKey',
  '*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
];
const PROMPT_PATHS = [
  'prompt',
  '*.prompt',
  'messages',
  '*.messages',
  'system',
  '*.system',
  'document',
  '*.document',
  'text',
  '*.text',
];

export interface LogOptions {
  level?: LoggerOptions['level'];
  /** Keep prompt and output text in logs (only honoured at trace level). */
  logPrompts?: boolean;
  /** Where lines go; defaults to stdout. Tests pass a sink to assert on lines. */
  destination?: NodeJS.WritableStream;
}

/**
 * The process logger: JSON lines, credentials always redacted, prompt and output text
 * redacted unless `logPrompts` is set and the level is trace.
 */
export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? 'info';
  const keepPrompts = options.logPrompts === true && level === 'trace';
  const paths = keepPrompts ? REDACT : [...REDACT, ...PROMPT_PATHS];
  const opts: LoggerOptions = { level, redact: { paths, censor: '[redacted]' }, base: { pid: process.pid } };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A logger that writes nothing, for library use without a logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
