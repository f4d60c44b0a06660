import { SlurmTransportError, type SlurmTransportErrorCode } from '../errors.js';
import type { ExecOptions, ExecResult, RemoteExecutor } from '../ssh/remote-executor.js';
import { shellJoin } from '../ssh/shell-quote.js';

/** Options every Slurm command of this package takes. */
export interface SlurmCommandOptions {
  /** Aborts the remote command; the call rejects with `ERR_ABORTED`. */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds before the remote command is abandoned (`ERR_SSH_TIMEOUT`). Slurm commands
   * retry for a while when slurmctld is busy; this bounds that.
   * @default 60000
   */
  timeoutMs?: number | undefined;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/** Runs `argv` through `executor` with the abort signal and timeout of `options`. */
export function runSlurmCommand(
  executor: RemoteExecutor,
  argv: readonly string[],
  options: SlurmCommandOptions = {},
  defaultTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
): Promise<ExecResult> {
  const execOptions: ExecOptions = { timeoutMs: options.timeoutMs ?? defaultTimeoutMs };
  if (options.signal !== undefined) {
    execOptions.signal = options.signal;
  }
  return executor.exec(argv, execOptions);
}

/** The last lines of `text`, trimmed, for messages (Slurm puts the relevant line last). */
export function tail(text: string, maxLines = 5): string {
  const lines = text
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '');
  return lines.slice(-maxLines).join('\n');
}

// Failures every Slurm client command can show, whatever it was asked.
const COMMON_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /command not found|No such file or directory/i,
    'The Slurm command is not on the default PATH of a non-login bash (remote commands run as `bash --noprofile --norc`, so no `module load`). Ask the administrators, or make it reachable without a login profile.',
  ],
  [
    /Unable to contact slurm controller|Socket timed out|Connection refused|Zero Bytes were transmitted/i,
    'slurmctld is down, restarting or overloaded. Retry later; `scontrol ping` on the login node shows whether it answers.',
  ],
  [
    /Invalid user id|Access\/permission denied|Invalid authentication|Protocol authentication error/i,
    'Slurm rejected the user: check that munge works on the login node (`munge -n | unmunge`) and that the user exists in Slurm.',
  ],
];

/** The first hint whose pattern matches `stderr`, trying `hints` before the common ones. */
export function findHint(
  stderr: string,
  hints: ReadonlyArray<readonly [RegExp, string]> = [],
): string | undefined {
  return [...hints, ...COMMON_HINTS].find(([pattern]) => pattern.test(stderr))?.[1];
}

/**
 * The error for a Slurm command that exited non-zero (or printed nonsense): what ran, how it
 * ended, the end of its stderr, and `hint`. Carries the result, as execa's errors do.
 */
export function commandError(
  code: SlurmTransportErrorCode,
  summary: string,
  argv: readonly string[],
  result: ExecResult,
  hint: string | undefined,
): SlurmTransportError {
  const ending =
    result.signal !== null ? `killed by SIG${result.signal}` : `exit code ${result.exitCode ?? 'unknown'}`;
  const stderr = tail(result.stderr);
  const parts = [`${summary} (${ending}).`];
  if (stderr !== '') parts.push(`${argv[0]} said: ${stderr}`);
  if (hint !== undefined) parts.push(`Fix: ${hint}`);
  return new SlurmTransportError(code, parts.join('\n'), {
    command: shellJoin(argv),
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
  });
}
