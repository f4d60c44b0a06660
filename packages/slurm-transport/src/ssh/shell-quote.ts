// Characters that mean nothing to sh, bash, dash, zsh, csh/tcsh or fish when unquoted.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one argument for a POSIX shell so that it reaches the command verbatim: safe words stay
 * as they are, everything else goes in single quotes with each `'` written as `'\''`.
 * @throws {TypeError} when `arg` contains a NUL byte, which no shell argument can hold.
 */
export function shellQuote(arg: string): string {
  if (typeof arg !== 'string') {
    throw new TypeError(`shellQuote: expected a string, got ${typeof arg}`);
  }
  if (arg.includes('\0')) {
    throw new TypeError(`shellQuote: argument contains a NUL byte: ${JSON.stringify(arg)}`);
  }
  if (SAFE_WORD.test(arg)) {
    return arg;
  }
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * Quotes each element with {@link shellQuote} and joins them with spaces: the POSIX shell command
 * line that runs `argv[0]` with exactly the arguments `argv.slice(1)`.
 * @throws {TypeError} for an empty `argv` or an element containing a NUL byte.
 */
export function shellJoin(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new TypeError('shellJoin: argv must contain at least the command name');
  }
  return argv.map(shellQuote).join(' ');
}
