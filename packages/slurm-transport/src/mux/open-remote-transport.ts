import { isSlurmTransportError } from '../errors.js';
import {
  describeEndpoint,
  resolveConnectionOptions,
  type SshConnectionOptions,
} from '../ssh/connection-options.js';
import { silentLogger } from '../ssh/logger.js';
import type { RemoteTransport } from '../ssh/remote-transport.js';
import { SshConnection } from '../ssh/ssh-connection.js';
import { MuxClient, type MuxClientOptions } from './mux-client.js';
import { type MuxPathOptions, resolveMuxPaths } from './mux-paths.js';
import { MuxSocket } from './mux-socket.js';
import { EmptyResult, MuxStatus } from './wire-frames.js';

/**
 * Whether {@link openRemoteTransport} goes through the multiplexing daemon:
 * - `'auto'`: through the daemon (started on first use), else a direct connection, with a warning.
 * - `'required'`: through the daemon, else `ERR_MUX`.
 * - `'off'`: a direct `SshConnection`.
 */
export type MuxMode = 'auto' | 'required' | 'off';

/** Options of {@link openRemoteTransport}. */
export interface OpenRemoteTransportOptions extends MuxClientOptions {
  /**
   * See {@link MuxMode}.
   * @default 'auto'
   */
  mux?: MuxMode;
}

const MODES: readonly MuxMode[] = ['auto', 'required', 'off'];

/**
 * Opens the transport to the login node the bridge should use: a {@link MuxClient} sharing the
 * daemon's one SSH connection per `user@host:port` (like OpenSSH ControlMaster), or a direct
 * `SshConnection`. In `'auto'` mode a daemon that cannot be used (`ERR_MUX`: not startable, not
 * private, not answering in time) means a direct connection and a `warn` on the logger, never a
 * silent fallback; SSH errors (`ERR_SSH_AUTH`, ...) are thrown, as a direct login would fail alike.
 * Resolves once the connection is ready.
 * @throws {SlurmTransportError} `ERR_MUX` (`'required'` only) and the errors of `SshConnection.connect`.
 */
export async function openRemoteTransport(
  ssh: SshConnectionOptions,
  options: OpenRemoteTransportOptions = {},
): Promise<RemoteTransport & AsyncDisposable> {
  const mode = options.mux ?? 'auto';
  if (!MODES.includes(mode)) {
    throw new RangeError(`mux must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  if (mode === 'off') {
    return SshConnection.connect(ssh);
  }
  const logger = options.logger ?? ssh.logger ?? silentLogger;
  try {
    return await MuxClient.connect(ssh, options);
  } catch (error) {
    if (mode === 'required' || !isSlurmTransportError(error, 'ERR_MUX')) {
      throw error;
    }
    logger.warn(
      `SSH multiplexing unavailable, connecting to ${describeEndpoint(resolveConnectionOptions(ssh).endpoint)} directly ` +
        `(one more SSH login): ${error.message}`,
    );
    return SshConnection.connect(ssh);
  }
}

/** Options of {@link getMuxDaemonStatus} and {@link stopMuxDaemon}. */
export interface MuxQueryOptions extends MuxPathOptions {
  /**
   * Deadline to reach the daemon, in ms.
   * @default 5000
   */
  timeoutMs?: number;
}

/**
 * The running daemon's status, or `undefined` when none answers (nothing is started).
 * @throws {SlurmTransportError} `ERR_MUX` when a daemon answers but refuses (wrong token) or misbehaves.
 */
export async function getMuxDaemonStatus(options: MuxQueryOptions = {}): Promise<MuxStatus | undefined> {
  const socket = await dialRunning(options);
  if (socket === undefined) return undefined;
  try {
    return await socket.request({ type: 'status' }, MuxStatus);
  } finally {
    await socket.close();
  }
}

/**
 * Asks the running daemon to stop (its SSH connections close); `false` when none answers.
 * @throws {SlurmTransportError} `ERR_MUX` as {@link getMuxDaemonStatus}.
 */
export async function stopMuxDaemon(options: MuxQueryOptions = {}): Promise<boolean> {
  const socket = await dialRunning(options);
  if (socket === undefined) return false;
  try {
    await socket.request({ type: 'shutdown' }, EmptyResult);
    return true;
  } finally {
    await socket.close();
  }
}

async function dialRunning(options: MuxQueryOptions): Promise<MuxSocket | undefined> {
  const result = await MuxSocket.dial(resolveMuxPaths(options), options.timeoutMs ?? 5_000);
  if (result.ok) return result.socket;
  if (result.reason === 'absent' || result.reason === 'refused') return undefined;
  throw result.error;
}
