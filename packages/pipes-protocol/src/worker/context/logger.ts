import { PipesError } from '../../errors.js';

/** The level names Python's logging sends (`record.levelname`). */
export type PipesWorkerLogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** Accepted level spellings: any case, plus Python logging's aliases `warn` and `fatal`. */
export type PipesWorkerLogLevelInput =
  | PipesWorkerLogLevel
  | Lowercase<PipesWorkerLogLevel>
  | 'WARN'
  | 'warn'
  | 'FATAL'
  | 'fatal';

/** Streams log records to Dagster: `log(level, message)` or `log.info(message)` etc. */
export interface PipesLogger {
  /** @throws {PipesError} `ERR_PIPES_INVALID_MESSAGE` for an unknown level; `ERR_PIPES_CLOSED` after close. */
  (level: PipesWorkerLogLevelInput, message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  /** Alias of {@link PipesLogger.warning}. */
  warn(message: string): void;
  error(message: string): void;
  critical(message: string): void;
}

const LEVEL_BY_NAME: Readonly<Record<string, PipesWorkerLogLevel>> = {
  debug: 'DEBUG',
  info: 'INFO',
  warning: 'WARNING',
  warn: 'WARNING',
  error: 'ERROR',
  critical: 'CRITICAL',
  fatal: 'CRITICAL',
};

/**
 * Maps a level spelling to the name Dagster's host accepts.
 * @throws {PipesError} `ERR_PIPES_INVALID_MESSAGE` naming the accepted levels.
 */
export function normalizeLogLevel(level: string): PipesWorkerLogLevel {
  const found = typeof level === 'string' ? LEVEL_BY_NAME[level.toLowerCase()] : undefined;
  if (found === undefined) {
    throw new PipesError(
      'ERR_PIPES_INVALID_MESSAGE',
      `Invalid log level ${JSON.stringify(level)}. Use one of DEBUG, INFO, WARNING, ERROR, CRITICAL (any case; "warn" and "fatal" are aliases).`,
    );
  }
  return found;
}

/** Builds a {@link PipesLogger} over `send`, which receives Python's level names. */
export function createPipesLogger(send: (level: PipesWorkerLogLevel, message: string) => void): PipesLogger {
  // Python sends record.getMessage(), always a str.
  const log = (level: PipesWorkerLogLevelInput, message: string) =>
    send(normalizeLogLevel(level), String(message));
  return Object.assign(log, {
    debug: (message: string) => send('DEBUG', String(message)),
    info: (message: string) => send('INFO', String(message)),
    warning: (message: string) => send('WARNING', String(message)),
    warn: (message: string) => send('WARNING', String(message)),
    error: (message: string) => send('ERROR', String(message)),
    critical: (message: string) => send('CRITICAL', String(message)),
  });
}
