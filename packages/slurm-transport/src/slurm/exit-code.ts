/** A job's exit status as sacct's `ExitCode` column gives it (`"1:0"`, `"0:9"`). */
export interface JobExitCode {
  /** Exit code of the batch script (or step); `0` when it was killed by a signal. */
  readonly code: number;
  /** Number of the signal that ended it, `0` when none. */
  readonly signal: number;
}

/**
 * Parses `CODE:SIGNAL` as sacct prints it.
 * @returns `undefined` for `""`, `Unknown` and other non-exit-codes.
 */
export function parseExitCode(text: string): JobExitCode | undefined {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match) {
    return undefined;
  }
  return { code: Number(match[1]), signal: Number(match[2]) };
}
