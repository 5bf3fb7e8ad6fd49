import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { createLogger, type Logger } from '../log.js';

/** What every command gets: the global options, read lazily so `--help` needs no config. */
export interface CliContext {
  config(): Config;
  logger(): Logger;
  json(): boolean;
  /** Lines for people go to stdout; with `--json`, one JSON document per line instead. */
  out(line: string): void;
  emit(value: unknown): void;
}

/** An error whose message is for the user: printed without a stack, exit code as given. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function createContext(program: Command): CliContext {
  let config: Config | undefined;
  let logger: Logger | undefined;
  const opts = () => program.opts<{ config?: string; json?: boolean }>();
  return {
    config() {
      config ??= loadConfig(opts().config ? { file: opts().config } : {});
      return config;
    },
    logger() {
      const c = this.config();
      // Logs go to stderr so stdout stays clean for results and --json output.
      logger ??= createLogger({ level: c.logLevel, logPrompts: c.logPrompts, destination: process.stderr });
      return logger;
    },
    json: () => opts().json === true,
    out: (line) => process.stdout.write(`${line}\n`),
    emit: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
  };
}

/** Resolves on the first SIGINT/SIGTERM; a second one exits at once. */
export function untilSignal(onSecond: () => void = () => process.exit(130)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals) => {
      if (seen) return onSecond();
      seen = true;
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
