/**
 * Stable error codes of `@slurm-pipes/slurm-transport`. Every error this package throws is a
 * {@link SlurmTransportError} carrying one of these codes; the README lists them with their fixes.
 */
export type SlurmTransportErrorCode =
  /** TCP connect, handshake or jump-host forwarding failed (DNS, refused, reset, protocol). */
  | 'ERR_SSH_CONNECT'
  /** Every offered authentication method was rejected, or no method was configured. */
  | 'ERR_SSH_AUTH'
  /** The server's host key is unknown (`strict`) or differs from the `known_hosts` entry. */
  | 'ERR_SSH_HOST_KEY'
  /** A connect deadline, command `timeoutMs` or keepalive limit was exceeded. */
  | 'ERR_SSH_TIMEOUT'
  /** A session channel could not be opened or failed mid-command (e.g. sshd `MaxSessions`). */
  | 'ERR_SSH_CHANNEL'
  /** The connection was closed (by `close()`, the server or the network) while work was pending. */
  | 'ERR_SSH_DISCONNECTED'
  /** Options are invalid or a referenced file (key, known_hosts) is unreadable. */
  | 'ERR_SSH_CONFIG'
  /** An SFTP operation (open, write, rename, mkdir, stat, read) failed. */
  | 'ERR_SFTP'
  /** A remote command exited non-zero or was killed by a signal where success was required. */
  | 'ERR_REMOTE_COMMAND'
  /** `sbatch` failed or printed no job id. */
  | 'ERR_SLURM_SUBMIT'
  /** `squeue`/`sacct`/`scontrol` failed or printed output that could not be parsed. */
  | 'ERR_SLURM_QUERY'
  /** `scancel` failed. */
  | 'ERR_SLURM_CANCEL'
  /** A job waited longer than a queue or run limit the caller set (the job is not cancelled). */
  | 'ERR_SLURM_WAIT_TIMEOUT'
  /** The local multiplexing daemon could not be reached or answered with an error. */
  | 'ERR_MUX'
  /** The operation was aborted through its `AbortSignal`. */
  | 'ERR_ABORTED';

/**
 * Where an SSH failure happened, mirroring ssh2's `err.level`: `client-socket` (TCP),
 * `client-timeout` (handshake/keepalive timeout), `client-authentication`, `protocol`,
 * `client-ssh` (remote disconnect or other SSH-level error), `client-dns`.
 */
export type SshErrorLevel =
  | 'client-socket'
  | 'client-timeout'
  | 'client-authentication'
  | 'client-dns'
  | 'client-ssh'
  | 'protocol';

/** Optional fields of a {@link SlurmTransportError}; which ones are set depends on the code. */
export interface SlurmTransportErrorDetails {
  /** The underlying error. */
  cause?: unknown;
  /** ssh2's `err.level`, for SSH-level failures. */
  level?: SshErrorLevel | undefined;
  /** The remote command (already shell-quoted) for `ERR_REMOTE_COMMAND`, `ERR_SLURM_*`, `ERR_SSH_TIMEOUT`. */
  command?: string | undefined;
  /** Exit code of the remote command; `null` when it was killed by a signal or never exited. */
  exitCode?: number | null | undefined;
  /** Signal that ended the remote command, if any (e.g. `'TERM'`). */
  signal?: string | null | undefined;
  /** Captured standard output of the remote command. */
  stdout?: string | undefined;
  /** Captured standard error of the remote command. */
  stderr?: string | undefined;
}

/**
 * The one error class of this package. `code` is stable; `message` says what happened and the fix,
 * and never contains a password, passphrase or one-time code. Command failures carry the result
 * (`command`, `exitCode`, `signal`, `stdout`, `stderr`), as execa's errors do.
 */
export class SlurmTransportError extends Error {
  override readonly name = 'SlurmTransportError';
  readonly code: SlurmTransportErrorCode;
  readonly level: SshErrorLevel | undefined;
  readonly command: string | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly stdout: string | undefined;
  readonly stderr: string | undefined;

  constructor(code: SlurmTransportErrorCode, message: string, details: SlurmTransportErrorDetails = {}) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined);
    this.code = code;
    this.level = details.level;
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
  }
}

/** True when `error` is a {@link SlurmTransportError}, optionally of the given code. */
export function isSlurmTransportError(
  error: unknown,
  code?: SlurmTransportErrorCode,
): error is SlurmTransportError {
  return error instanceof SlurmTransportError && (code === undefined || error.code === code);
}
