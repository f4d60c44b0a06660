import {
  isSlurmTransportError,
  type KeyboardInteractiveResponder,
  type MuxMode,
  openRemoteTransport,
  type RemoteTransport,
  type SshConnectionOptions,
  type SshEndpointOptions,
} from '@slurm-pipes/slurm-transport';
import type { SshConfig } from '../config/schema.js';
import { rememberRemoteHome } from './remote-base.js';

// A configured one-time code answers every prompt that is not a password prompt.
function otpResponder(password: string | undefined, otp: string): KeyboardInteractiveResponder {
  return ({ prompts }) =>
    prompts.map(({ prompt }) => (/pass(word|phrase)/i.test(prompt) && password ? password : otp));
}

/** Maps the bridge's SSH configuration (one hop) to the transport's endpoint options. */
export function sshEndpointOptions(ssh: SshConfig): SshEndpointOptions {
  const options: SshEndpointOptions = {
    host: ssh.host,
    port: ssh.port,
    username: ssh.user,
    hostKeyPolicy: ssh.hostKeyPolicy,
  };
  if (ssh.keyPath !== undefined) options.privateKeyPath = ssh.keyPath;
  if (ssh.keyPassphrase !== undefined) options.passphrase = ssh.keyPassphrase;
  if (ssh.password !== undefined) options.password = ssh.password;
  if (ssh.otp !== undefined) options.keyboardInteractive = otpResponder(ssh.password, ssh.otp);
  if (!ssh.useAgent) options.agent = false;
  if (ssh.knownHostsPath !== undefined) options.knownHostsPath = ssh.knownHostsPath;
  if (ssh.jumpHost !== undefined) options.jumpHost = sshEndpointOptions(ssh.jumpHost);
  return options;
}

/** The connection options for the login node in `ssh`. */
export function sshConnectionOptions(ssh: SshConfig): SshConnectionOptions {
  return { ...sshEndpointOptions(ssh), keepaliveIntervalMs: ssh.keepaliveIntervalMs };
}

/** How the step reaches the login node when no transport is injected. */
export interface SlurmTransportOptions {
  /**
   * Command that starts the multiplexing daemon (e.g. `[process.execPath, cli.js, 'mux', 'serve']`).
   * @default undefined (only a daemon that already runs is used)
   */
  daemonCommand?: readonly string[] | undefined;
  /**
   * Whether to go through the multiplexing daemon, which shares one SSH login per host among all
   * bridge processes.
   * @default 'auto' when `daemonCommand` is given, else 'off'
   */
  mux?: MuxMode | undefined;
}

/**
 * Opens the transport to the login node and waits until it is ready: through the multiplexing
 * daemon (one shared SSH connection per host for every bridge process) or one direct
 * connection, which every command, upload and the tail of the job's files then share.
 * @throws {SlurmTransportError} `ERR_SSH_*` when the login fails, `ERR_MUX` (`mux: 'required'`).
 */
export async function openSlurmTransport(
  ssh: SshConfig,
  options: SlurmTransportOptions,
  log: (line: string) => void,
): Promise<RemoteTransport> {
  const logger = { debug() {}, info() {}, warn: log };
  const transport = await openRemoteTransport(
    { ...sshConnectionOptions(ssh), logger },
    {
      mux: options.mux ?? (options.daemonCommand === undefined ? 'off' : 'auto'),
      // Many bridges starting at once on a busy machine can take a while to bring the daemon up;
      // a direct connection (one more login) is the fallback only for a daemon that is really stuck.
      startTimeoutMs: 60_000,
      ...(options.daemonCommand === undefined ? {} : { daemonCommand: options.daemonCommand }),
      logger,
    },
  );
  await probeConnection(transport, log);
  return transport;
}

/**
 * Runs `printenv HOME` once before the step relies on the connection: a shared connection the
 * server dropped since its last use (sshd restarted, sessions killed) fails the first command
 * with `ERR_SSH_DISCONNECTED` and redials on the next, so a harmless probe takes that hit, not a
 * step's real first command. Its answer saves resolving the remote base another round trip.
 */
async function probeConnection(transport: RemoteTransport, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await transport.exec(['printenv', 'HOME'], { timeoutMs: 60_000 });
      if (result.exitCode === 0) rememberRemoteHome(transport, result.stdout);
      return;
    } catch (error) {
      if (!isSlurmTransportError(error, 'ERR_SSH_DISCONNECTED') || attempt >= 3) throw error;
      log(`the shared SSH connection had dropped (${(error as Error).message}); reconnecting`);
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}
