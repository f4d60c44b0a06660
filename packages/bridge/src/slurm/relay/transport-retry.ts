import { isSlurmTransportError } from '@slurm-pipes/slurm-transport';

/**
 * True for failures of the way to the login node that a later attempt can get past: the
 * connection dropped or could not be made (sshd killed or restarting, network), a channel was
 * refused or failed, a deadline passed, the multiplexing daemon went away, or the remote tail
 * loop was killed with its session. Authentication, host-key, configuration and protocol errors
 * are not: retrying them changes nothing.
 */
export function isTransientTransportError(error: unknown): boolean {
  if (!isSlurmTransportError(error)) return false;
  switch (error.code) {
    case 'ERR_SSH_DISCONNECTED':
    case 'ERR_SSH_CONNECT':
    case 'ERR_SSH_CHANNEL':
    case 'ERR_SSH_TIMEOUT':
    case 'ERR_MUX':
      return true;
    case 'ERR_REMOTE_COMMAND':
      // A remote command that exited or was killed (its sshd session died), not one that spoke
      // an unexpected protocol (those carry no exit status).
      return error.exitCode !== undefined || error.signal !== undefined;
    default:
      return false;
  }
}

/** The first line of an error's message, for one-line progress logs. */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Options of {@link retryTransient}. */
export interface RetryTransientOptions {
  /** Progress lines. */
  log: (line: string) => void;
  /**
   * How long transient failures are retried, from the first attempt, in ms.
   * @default 600000
   */
  retryForMs?: number;
  /**
   * Delay before the first retry, in ms; it doubles up to `maxDelayMs`.
   * @default 1000
   */
  initialDelayMs?: number;
  /** @default 10000 */
  maxDelayMs?: number;
}

/**
 * Runs `attempt` until it succeeds, retrying transient transport failures (see
 * {@link isTransientTransportError}) with backoff for up to `retryForMs`. For reads whose loss
 * would break exactly-once (the final sizes of a job's files, their last bytes); never for
 * commands with effects.
 * @throws the last error once retrying stops, or at once a non-transient one.
 */
export async function retryTransient<T>(
  what: string,
  attempt: () => Promise<T>,
  options: RetryTransientOptions,
): Promise<T> {
  const started = Date.now();
  const retryForMs = options.retryForMs ?? 600_000;
  let delayMs = options.initialDelayMs ?? 1000;
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransientTransportError(error) || Date.now() - started + delayMs > retryForMs) throw error;
      options.log(`could not ${what} (${firstLine(error)}); retrying in ${delayMs} ms (attempt ${attempts})`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(options.maxDelayMs ?? 10_000, delayMs * 2);
    }
  }
}
