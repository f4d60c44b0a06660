import { shellJoin, shellQuote } from './shell-quote.js';

// Printable ASCII without `\` and `!`: single-quoted, this reads the same in sh, bash, zsh,
// csh/tcsh (which expand `!` and reject newlines even in quotes) and fish (`\\` in quotes).
const LOGIN_SHELL_SAFE = /^[\x20-\x5b\x5d-\x7e]*$/;

/**
 * The command string sent in the SSH `exec` request for `argv`. sshd hands it to the user's login
 * shell, which may be any shell, so it only ever starts a clean bash that runs the quoted argv:
 * `exec bash --noprofile --norc -c '<shellJoin(argv)>'`. When the quoted argv holds characters some
 * login shells would still interpret inside single quotes (newlines, `!`, `\`, non-ASCII), it is
 * passed base64-encoded instead and decoded by bash, so it still arrives verbatim.
 * @throws {TypeError} for an empty `argv` or an element containing a NUL byte.
 */
export function buildRemoteCommand(argv: readonly string[]): string {
  const script = shellJoin(argv);
  if (LOGIN_SHELL_SAFE.test(script) && !script.includes('!')) {
    return `exec bash --noprofile --norc -c ${shellQuote(script)}`;
  }
  const encoded = Buffer.from(script, 'utf8').toString('base64');
  return `exec bash --noprofile --norc -c 'eval "$(printf %s ${encoded} | base64 -d)"'`;
}
