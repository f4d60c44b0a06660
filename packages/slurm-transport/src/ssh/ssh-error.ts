import { SlurmTransportError, type SshErrorLevel } from '../errors.js';

const LEVELS: readonly string[] = [
  'client-socket',
  'client-timeout',
  'client-authentication',
  'client-dns',
  'client-ssh',
  'protocol',
];

/** ssh2 tags errors with `level`; this reads it when it is one we map. */
export function ssh2Level(error: unknown): SshErrorLevel | undefined {
  const level: unknown = (error as { level?: unknown } | null)?.level;
  return typeof level === 'string' && LEVELS.includes(level) ? (level as SshErrorLevel) : undefined;
}

/**
 * Turns an ssh2 error into a {@link SlurmTransportError} for `target` (`user@host:port`). `auth`
 * describes the authentication attempts; `established` tells a dropped connection from a failed connect.
 */
export function fromSsh2Error(
  error: unknown,
  target: string,
  established: boolean,
  auth?: () => string,
): SlurmTransportError {
  if (error instanceof SlurmTransportError) {
    return error;
  }
  const level = ssh2Level(error);
  const message = error instanceof Error ? error.message : String(error);
  const details = { cause: error, level };
  switch (level) {
    case 'client-authentication':
      return new SlurmTransportError(
        'ERR_SSH_AUTH',
        `Authentication to ${target} failed: ${auth?.() ?? message}. Check the username and the key, password ` +
          'or one-time code (for a code, set the variable named by otpEnvVar or pass keyboardInteractive).',
        details,
      );
    case 'client-timeout':
      return new SlurmTransportError(
        'ERR_SSH_TIMEOUT',
        established
          ? `The connection to ${target} stopped answering keepalives (${message}); the network or login node is down.`
          : `Timed out connecting to ${target} (${message}). Check that the host is reachable, or raise connectTimeoutMs.`,
        details,
      );
    default:
      if (established) {
        return new SlurmTransportError(
          'ERR_SSH_DISCONNECTED',
          `The connection to ${target} was lost: ${message}.`,
          details,
        );
      }
      return new SlurmTransportError(
        'ERR_SSH_CONNECT',
        `Cannot connect to ${target}: ${message}. Check host, port and that an SSH server answers there.`,
        details,
      );
  }
}
