import { type Logger, type LoggerOptions, pino, stdSerializers } from 'pino';

export type { Logger } from 'pino';

/** Paths whose value never reaches a log line: credentials of every kind. */
const SECRETS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'apiToken',
  '*.apiToken',
  'token',
  '*.token',
  'cookie',
  '*.cookie',
  'password',
  '*.password',
  'accessKeyId',
  '*.accessKeyId',
  'secretAccessKey',
  '*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
  'credentials',
  '*.credentials',
];
/** Fields holding a URL: logged with the password in it masked (`redis://user:***@host`). */
const URL_KEYS: ReadonlySet<string> = new Set(['url', 'redisUrl']);
const URLS = [...URL_KEYS].flatMap((k) => [k, `*.${k}`]);
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
const CENSOR = '[redacted]';
/** Longest failure reason logged without `LOG_PROMPTS`; the job's result keeps all of it. */
const REASON_CHARS = 200;

/**
 * Masks the password of every URL in `text`: `redis://user:secret@host` →
 * `redis://user:***@host`. The password runs to the last `@` before the path, so one holding
 * an unescaped `@` is masked whole.
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]*):[^\s/]*@/gi, '$1$2:***@');
}

/**
 * A failure reason fit for a log line. Bedrock's refusals may quote the request (`Value
 * 'Dear Dr. Kim, …' at 'messages.0…'`, `#/stop: <value> is not a valid enum value`): quoted
 * text and enum values are masked, and the rest is cut at 200 characters. The job's result keeps
 * the whole reason; `LOG_PROMPTS=1` at trace level logs it whole.
 */
export function reasonForLog(reason: string): string {
  const masked = redactUrlCredentials(reason)
    .replace(/(?<!\w)(['"`])(?:(?!\1)[\s\S])*\1(?!\w)/g, `$1${CENSOR}$1`)
    .replace(/(#[^\s:]*: )[\s\S]*?( is not a valid enum value)/g, `$1${CENSOR}$2`);
  return masked.length <= REASON_CHARS
    ? masked
    : `${masked.slice(0, REASON_CHARS)}… (${masked.length - REASON_CHARS} more characters in the job's result)`;
}

const censor = (value: unknown, path: string[]): unknown =>
  URL_KEYS.has(path.at(-1) ?? '') && typeof value === 'string' ? redactUrlCredentials(value) : CENSOR;

/**
 * An error's serialized fields, cleaned: URL passwords masked in every string, and the
 * arguments of a failed Redis command (ioredis keeps them: `AUTH user password`) dropped.
 */
function scrubError(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (typeof value !== 'object' || value === null || depth > 4) return value;
  if (Array.isArray(value)) return value.map((v) => scrubError(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value))
    out[key] = key === 'args' && depth > 0 ? CENSOR : scrubError(v, depth + 1);
  return out;
}

/** pino's error serializer, then {@link scrubError}. */
const errSerializer = (err: Error): unknown => scrubError(stdSerializers.err(err));

export interface LogOptions {
  level?: LoggerOptions['level'];
  /** Keep prompt and output text in logs (only honoured at trace level). */
  logPrompts?: boolean;
  /** Where lines go; defaults to stdout. Tests pass a sink to assert on lines. */
  destination?: NodeJS.WritableStream;
}

/** Whether a logger made with these options writes prompt and output text. */
export function keepsPrompts(options: Pick<LogOptions, 'level' | 'logPrompts'>): boolean {
  return options.logPrompts === true && options.level === 'trace';
}

/**
 * The process logger: JSON lines; credentials always redacted (URLs with their password
 * masked, in fields, messages and errors); prompt and output text redacted and failure
 * reasons shortened unless `logPrompts` is set and the level is trace.
 */
export function createLogger(options: LogOptions = {}): Logger {
  const level = options.level ?? 'info';
  const keepPrompts = keepsPrompts({ level, ...options });
  const paths = [...SECRETS, ...URLS, ...(keepPrompts ? [] : PROMPT_PATHS)];
  const opts: LoggerOptions = {
    level,
    redact: { paths, censor },
    base: { pid: process.pid },
    serializers: {
      err: errSerializer,
      ...(keepPrompts ? {} : { reason: (r: unknown) => (typeof r === 'string' ? reasonForLog(r) : r) }),
    },
    hooks: {
      // A message string may quote a URL too (`cannot reach redis://…`).
      logMethod(args, method) {
        const clean = args.map((a: unknown) => (typeof a === 'string' ? redactUrlCredentials(a) : a));
        method.apply(this, clean as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A logger that writes nothing, for library use without a logger. */
export const silentLogger: Logger = pino({ level: 'silent' });
