/**
 * Where this package reports what it does. Messages never contain passwords, passphrases or
 * one-time codes. Pass e.g. `console` or a namespaced logger of the CLI; the default is silent.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

/** A {@link Logger} that drops everything. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
});
