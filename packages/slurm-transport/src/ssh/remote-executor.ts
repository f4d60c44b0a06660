/**
 * Options of {@link RemoteExecutor.exec}.
 */
export interface ExecOptions {
  /** Aborts the command: the channel is signalled and closed, and `exec` rejects with `ERR_ABORTED`. */
  signal?: AbortSignal;
  /**
   * Milliseconds from the call (queueing for a free channel included) until the command is abandoned:
   * the channel is signalled and closed, and `exec` rejects with `ERR_SSH_TIMEOUT`.
   * @default undefined (no timeout)
   */
  timeoutMs?: number;
  /** Written to the command's standard input, which is then closed. Without it stdin is closed at once. */
  stdin?: string | Buffer;
  /**
   * Reserved. Environment variables are not sent (sshd drops most of them unless `AcceptEnv` allows
   * them); pass values as arguments, e.g. `['env', 'A=1', 'cmd']`.
   */
  env?: never;
}

/** What a remote command produced. A non-zero exit is a result, not an error. */
export interface ExecResult {
  /** Standard output, decoded as UTF-8 once the command ended. */
  stdout: string;
  /** Standard error, decoded as UTF-8 once the command ended. */
  stderr: string;
  /** Exit status; `null` when the command was killed by a signal or the server sent none. */
  exitCode: number | null;
  /** Name of the signal that killed the command without the `SIG` prefix (e.g. `'KILL'`), else `null`. */
  signal: string | null;
}

/**
 * Runs commands on the cluster's login node. Implemented by `SshConnection` (ssh2 channels) and,
 * later, by the multiplexing daemon's client; Slurm commands are written against this interface only.
 *
 * `argv` is never parsed by a shell: every element is quoted (see `shellJoin`) and the result runs
 * as `bash --noprofile --norc -c '<quoted argv>'`, so no asset key, path or value can run code on
 * the cluster. `--noprofile --norc` means no `module load` and no `.bashrc` `PATH`: Slurm commands
 * must be on the default `PATH` or given by absolute path.
 */
export interface RemoteExecutor {
  /**
   * Runs `argv` remotely and resolves with its output and exit status (also when it exits non-zero).
   * Waits for a free channel rather than failing when the server's session limit is reached.
   * @throws {SlurmTransportError} `ERR_SSH_TIMEOUT` after `timeoutMs`, `ERR_ABORTED` on abort,
   *   `ERR_SSH_CHANNEL`/`ERR_SSH_DISCONNECTED`/`ERR_SSH_CONNECT`/`ERR_SSH_AUTH`/`ERR_SSH_HOST_KEY`
   *   when the transport fails, `TypeError` for an empty argv or an element containing a NUL byte.
   */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}
