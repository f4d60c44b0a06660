import { homedir } from 'node:os';
import { join } from 'node:path';
import { type BackoffOptions, type ResolvedBackoff, resolveBackoff } from './backoff.js';
import type { KeyboardInteractiveResponder } from './keyboard-interactive.js';
import { type Logger, silentLogger } from './logger.js';

/**
 * How the server's host key is checked against `knownHostsPath`:
 * - `'strict'`: only a key already listed is accepted (OpenSSH `StrictHostKeyChecking=yes`).
 * - `'accept-new'`: an unlisted host's key is appended and accepted; a changed key is refused.
 * - `'off'`: any key is accepted and nothing is written. Only for throwaway test servers.
 */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

/** Where and how to log in; used for the target and for each jump host. */
export interface SshEndpointOptions {
  /** Host name or address. */
  host: string;
  /**
   * TCP port.
   * @default 22
   */
  port?: number;
  /** Login name. */
  username: string;
  /** Path of an OpenSSH/PEM private key. Read at connect time. */
  privateKeyPath?: string;
  /** Private key contents, instead of `privateKeyPath`. */
  privateKey?: string | Buffer;
  /** Passphrase of an encrypted private key. Never logged. */
  passphrase?: string;
  /** Password for `password` auth and for keyboard-interactive password prompts. Never logged. */
  password?: string;
  /**
   * ssh-agent socket path, or `false` to not use an agent.
   * @default process.env.SSH_AUTH_SOCK
   */
  agent?: string | false;
  /**
   * Answers keyboard-interactive prompts (one-time codes); `false` disables the method.
   * @default a responder answering password prompts with `password`, other prompts with
   *   `process.env[otpEnvVar]`, else on the terminal when stdin is a TTY
   */
  keyboardInteractive?: KeyboardInteractiveResponder | false;
  /**
   * Environment variable holding a one-time code for the default keyboard-interactive responder.
   * @default 'SLURM_SSH_OTP'
   */
  otpEnvVar?: string;
  /**
   * Host key checking; see {@link HostKeyPolicy}.
   * @default 'strict'
   */
  hostKeyPolicy?: HostKeyPolicy;
  /**
   * OpenSSH known_hosts file to check (and, with `'accept-new'`, append to).
   * @default '~/.ssh/known_hosts'
   */
  knownHostsPath?: string;
  /**
   * Host to tunnel through, like OpenSSH `ProxyJump`; may itself have a `jumpHost` (a chain).
   * The target's host key is checked under the target's own name.
   */
  jumpHost?: SshEndpointOptions;
}

/** Reconnect behaviour after an established connection drops. */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * Attempts before giving up; the connection then returns to `'idle'` and the next call
   * starts over.
   * @default 10
   */
  maxAttempts?: number;
}

/** Options of {@link SshConnection.connect} and {@link SshConnection.lazy}. */
export interface SshConnectionOptions extends SshEndpointOptions {
  /**
   * Deadline of one connection attempt (TCP, handshake and authentication of every hop), in ms.
   * @default 30000
   */
  connectTimeoutMs?: number;
  /**
   * Interval of SSH keepalive requests, in ms; 0 disables them.
   * @default 15000
   */
  keepaliveIntervalMs?: number;
  /**
   * Unanswered keepalives after which the connection counts as dead.
   * @default 3
   */
  keepaliveCountMax?: number;
  /**
   * Channels (exec, SFTP, tail) open at once; more requests queue. Keep it below the server's
   * `MaxSessions` (OpenSSH default 10); if the server refuses sooner, the limit adapts.
   * @default 8
   */
  maxChannels?: number;
  /**
   * Reconnect policy after an established connection drops, or `false` to stay down until the
   * next call.
   * @default { maxAttempts: 10, initialDelayMs: 250, maxDelayMs: 30000, factor: 2, jitter: 0.25 }
   */
  reconnect?: ReconnectOptions | false;
  /** Aborting closes the connection for good, like {@link SshConnection.close}. */
  signal?: AbortSignal;
  /**
   * Receives connection events; never secrets.
   * @default a silent logger
   */
  logger?: Logger;
}

/** An endpoint with defaults applied. Holds secrets: never log it. */
export interface ResolvedEndpoint {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string | undefined;
  privateKey: string | Buffer | undefined;
  passphrase: string | undefined;
  password: string | undefined;
  agent: string | undefined;
  keyboardInteractive: KeyboardInteractiveResponder | 'default' | false;
  otpEnvVar: string;
  hostKeyPolicy: HostKeyPolicy;
  knownHostsPath: string;
  jumpHost: ResolvedEndpoint | undefined;
}

/** {@link SshConnectionOptions} with defaults applied. */
export interface ResolvedConnectionOptions {
  endpoint: ResolvedEndpoint;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  maxChannels: number;
  reconnect: (ResolvedBackoff & { maxAttempts: number }) | false;
  signal: AbortSignal | undefined;
  logger: Logger;
}

const HOST_KEY_POLICIES: readonly HostKeyPolicy[] = ['strict', 'accept-new', 'off'];

/** Validates `options` and applies defaults. @throws {TypeError | RangeError} naming the option. */
export function resolveConnectionOptions(
  options: SshConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedConnectionOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`SshConnection options must be an object, got ${String(options)}`);
  }
  const reconnect = options.reconnect ?? {};
  return {
    endpoint: resolveEndpoint(options, env, 'options', 0),
    connectTimeoutMs: positiveInteger(options.connectTimeoutMs ?? 30_000, 'connectTimeoutMs'),
    keepaliveIntervalMs: nonNegativeInteger(options.keepaliveIntervalMs ?? 15_000, 'keepaliveIntervalMs'),
    keepaliveCountMax: positiveInteger(options.keepaliveCountMax ?? 3, 'keepaliveCountMax'),
    maxChannels: positiveInteger(options.maxChannels ?? 8, 'maxChannels'),
    reconnect:
      reconnect === false
        ? false
        : {
            ...resolveBackoff(reconnect, 'reconnect'),
            maxAttempts: positiveInteger(reconnect.maxAttempts ?? 10, 'reconnect.maxAttempts'),
          },
    signal: options.signal,
    logger: options.logger ?? silentLogger,
  };
}

function resolveEndpoint(
  options: SshEndpointOptions,
  env: NodeJS.ProcessEnv,
  path: string,
  depth: number,
): ResolvedEndpoint {
  if (depth > 8) {
    throw new RangeError(`${path}: jump host chain longer than 8 hops`);
  }
  if (typeof options.host !== 'string' || options.host === '') {
    throw new TypeError(`${path}.host must be a non-empty string, got ${JSON.stringify(options.host)}`);
  }
  if (typeof options.username !== 'string' || options.username === '') {
    throw new TypeError(
      `${path}.username must be a non-empty string, got ${JSON.stringify(options.username)}`,
    );
  }
  const port = options.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new RangeError(`${path}.port must be an integer from 1 to 65535, got ${String(port)}`);
  }
  if (options.privateKey !== undefined && options.privateKeyPath !== undefined) {
    throw new TypeError(`${path}: set privateKey or privateKeyPath, not both`);
  }
  const policy = options.hostKeyPolicy ?? 'strict';
  if (!HOST_KEY_POLICIES.includes(policy)) {
    throw new RangeError(
      `${path}.hostKeyPolicy must be one of ${HOST_KEY_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`,
    );
  }
  const keyboardInteractive = options.keyboardInteractive ?? 'default';
  if (
    keyboardInteractive !== 'default' &&
    keyboardInteractive !== false &&
    typeof keyboardInteractive !== 'function'
  ) {
    throw new TypeError(`${path}.keyboardInteractive must be a function or false`);
  }
  const agent = options.agent === undefined ? env.SSH_AUTH_SOCK : options.agent;
  return {
    host: options.host,
    port,
    username: options.username,
    privateKeyPath: options.privateKeyPath,
    privateKey: options.privateKey,
    passphrase: options.passphrase,
    password: options.password,
    agent: agent === false || agent === '' ? undefined : agent,
    keyboardInteractive,
    otpEnvVar: options.otpEnvVar ?? 'SLURM_SSH_OTP',
    hostKeyPolicy: policy,
    knownHostsPath: options.knownHostsPath ?? join(homedir(), '.ssh', 'known_hosts'),
    jumpHost:
      options.jumpHost === undefined
        ? undefined
        : resolveEndpoint(options.jumpHost, env, `${path}.jumpHost`, depth + 1),
  };
}

/** `user@host:port`, for messages. */
export function describeEndpoint(endpoint: Pick<ResolvedEndpoint, 'username' | 'host' | 'port'>): string {
  return `${endpoint.username}@${endpoint.host}:${endpoint.port}`;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be an integer >= 0, got ${String(value)}`);
  }
  return value;
}
