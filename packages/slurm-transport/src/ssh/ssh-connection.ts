import { EventEmitter } from 'node:events';
import type { SFTPWrapper } from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import { operationSignal, raceSignal, signalError, sleep } from './abort.js';
import { backoffDelay } from './backoff.js';
import { type ChannelContext, openScheduledChannel } from './channel-open.js';
import { ChannelScheduler } from './channel-scheduler.js';
import {
  describeEndpoint,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
  type SshConnectionOptions,
} from './connection-options.js';
import { buildRemoteCommand } from './remote-command.js';
import type { ExecOptions, ExecResult } from './remote-executor.js';
import type {
  MkdirOptions,
  RemoteFileOptions,
  RemoteProcess,
  RemoteStats,
  RemoteTransport,
  SpawnOptions,
  UploadFileOptions,
  UploadResult,
} from './remote-transport.js';
import { sftpMkdirP, sftpReadFile, sftpStat } from './sftp.js';
import { shellJoin } from './shell-quote.js';
import { collectExec, onceClosed, openExecChannel, openSftpChannel, toRemoteProcess } from './ssh-exec.js';
import { endSession, openSession, type SshSession } from './ssh-session.js';
import { uploadToCache } from './upload-cache.js';

/**
 * Lifecycle of an {@link SshConnection}:
 * - `'idle'`: not connected; the next call (or {@link SshConnection.ensureConnected}) connects.
 * - `'connecting'`: first connection attempt under way.
 * - `'ready'`: authenticated; channels can be opened.
 * - `'reconnecting'`: an established connection dropped; retrying with backoff.
 * - `'closed'`: {@link SshConnection.close} was called (or the `signal` aborted); final.
 */
export type SshConnectionState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closed';

/** Events of {@link SshConnection}. */
export interface SshConnectionEvents {
  /** The state changed. */
  state: [state: SshConnectionState, previous: SshConnectionState];
  /** An established connection was lost (channels on it failed with `ERR_SSH_DISCONNECTED`). */
  disconnect: [error: SlurmTransportError];
  /** Reconnect attempt number `attempt` starts after `delayMs`. */
  reconnect: [attempt: number, delayMs: number];
}

/** Options of {@link SshConnection.ensureConnected}. */
export interface EnsureConnectedOptions {
  /** Stops waiting (the shared connection attempt goes on for other callers). */
  signal?: AbortSignal;
  /**
   * Stops waiting after this many ms with `ERR_SSH_TIMEOUT`.
   * @default undefined (each attempt is bounded by `connectTimeoutMs`)
   */
  timeoutMs?: number;
}

// Errors no retry can fix.
const PERMANENT: ReadonlySet<string> = new Set([
  'ERR_SSH_AUTH',
  'ERR_SSH_HOST_KEY',
  'ERR_SSH_CONFIG',
  'ERR_ABORTED',
]);

/**
 * One ssh2 connection to a login node (optionally through jump hosts), shared by every command:
 * channels are scheduled under `maxChannels`, the connection is kept alive and re-established
 * with backoff when it drops. Implements {@link RemoteTransport}.
 *
 * ```ts
 * await using conn = await SshConnection.connect({ host, username, privateKeyPath });
 * const { stdout } = await conn.exec(['squeue', '--me', '-h']);
 * ```
 */
export class SshConnection extends EventEmitter<SshConnectionEvents> implements RemoteTransport {
  readonly #options: ResolvedConnectionOptions;
  readonly #target: string;
  readonly #scheduler: ChannelScheduler;
  readonly #channels: ChannelContext;
  readonly #lifetime = new AbortController();
  #state: SshConnectionState = 'idle';
  #session: SshSession | undefined;
  #connecting: Promise<SshSession> | undefined;
  #lastError: SlurmTransportError | undefined;
  #closing: Promise<void> | undefined;

  private constructor(options: ResolvedConnectionOptions) {
    super();
    this.#options = options;
    this.#target = describeEndpoint(options.endpoint);
    this.#scheduler = new ChannelScheduler(options.maxChannels);
    this.#channels = {
      scheduler: this.#scheduler,
      readySession: (signal) => this.#readySession(signal),
      target: this.#target,
      logger: options.logger,
    };
    const { signal } = options;
    if (signal?.aborted) {
      void this.close();
    } else {
      signal?.addEventListener('abort', () => void this.close(), { once: true });
    }
  }

  /**
   * Creates a connection without connecting; the first call that needs it connects.
   * @throws {TypeError | RangeError} for invalid options.
   */
  static lazy(options: SshConnectionOptions): SshConnection {
    return new SshConnection(resolveConnectionOptions(options));
  }

  /**
   * Creates a connection and waits until it is ready (one attempt, bounded by `connectTimeoutMs`).
   * @throws {SlurmTransportError} `ERR_SSH_CONNECT`, `ERR_SSH_AUTH`, `ERR_SSH_HOST_KEY`,
   *   `ERR_SSH_TIMEOUT`, `ERR_SSH_CONFIG`; the connection is closed then.
   */
  static async connect(options: SshConnectionOptions, wait?: EnsureConnectedOptions): Promise<SshConnection> {
    const connection = SshConnection.lazy(options);
    try {
      await connection.ensureConnected(wait);
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  /** Current lifecycle state; see {@link SshConnectionState}. */
  get state(): SshConnectionState {
    return this.#state;
  }

  /** Why the last connection attempt failed or the connection dropped, if it did. */
  get lastError(): SlurmTransportError | undefined {
    return this.#lastError;
  }

  /** `user@host:port` of the target, for messages. */
  get target(): string {
    return this.#target;
  }

  /** Current cap on concurrent channels (lowered when the server refuses sooner). */
  get channelLimit(): number {
    return this.#scheduler.limit;
  }

  /**
   * Connects if needed and resolves once the connection is ready; concurrent callers share one
   * attempt. After a failure the state returns to `'idle'` and the next call tries again.
   * @throws {SlurmTransportError} as {@link SshConnection.connect}, `ERR_SSH_DISCONNECTED` once closed.
   */
  async ensureConnected(options: EnsureConnectedOptions = {}): Promise<void> {
    const op = operationSignal(
      options.signal,
      options.timeoutMs,
      () =>
        new SlurmTransportError(
          'ERR_SSH_TIMEOUT',
          `Timed out waiting for the connection to ${this.#target}.`,
        ),
    );
    try {
      await this.#readySession(op.signal);
    } finally {
      op.dispose();
    }
  }

  /** {@inheritDoc RemoteExecutor.exec} */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const command = buildRemoteCommand(argv);
    const display = shellJoin(argv);
    const op = operationSignal(
      options.signal,
      options.timeoutMs,
      () =>
        new SlurmTransportError(
          'ERR_SSH_TIMEOUT',
          `The command \`${display}\` on ${this.#target} did not finish within ${options.timeoutMs} ms.`,
          { command: display },
        ),
    );
    try {
      const { channel, session, release } = await openScheduledChannel(this.#channels, op.signal, (client) =>
        openExecChannel(client, command),
      );
      try {
        return await collectExec(channel, display, options.stdin, op.signal, () => session.lost);
      } finally {
        release();
      }
    } finally {
      op.dispose();
    }
  }

  /** {@inheritDoc RemoteSpawner.spawn} */
  async spawn(argv: readonly string[], options: SpawnOptions = {}): Promise<RemoteProcess> {
    const command = buildRemoteCommand(argv);
    const display = shellJoin(argv);
    const { channel, session, release } = await openScheduledChannel(
      this.#channels,
      options.signal,
      (client) => openExecChannel(client, command),
      'long',
    );
    onceClosed(channel, release);
    return toRemoteProcess(channel, display, options.signal, () => session.lost);
  }

  /** {@inheritDoc RemoteFileStore.uploadFile} */
  uploadFile(
    localPath: string,
    remoteCacheDir: string,
    options: UploadFileOptions = {},
  ): Promise<UploadResult> {
    return uploadToCache((signal, use) => this.#withSftp(signal, use), localPath, remoteCacheDir, options);
  }

  /** {@inheritDoc RemoteFileStore.readFile} */
  readFile(remotePath: string, options: RemoteFileOptions = {}): Promise<Buffer> {
    return this.#withSftp(options.signal, (sftp) => sftpReadFile(sftp, remotePath));
  }

  /** {@inheritDoc RemoteFileStore.stat} */
  stat(remotePath: string, options: RemoteFileOptions = {}): Promise<RemoteStats | undefined> {
    return this.#withSftp(options.signal, (sftp) => sftpStat(sftp, remotePath));
  }

  /** {@inheritDoc RemoteFileStore.mkdir} */
  mkdir(remotePath: string, options: MkdirOptions = {}): Promise<void> {
    return this.#withSftp(options.signal, (sftp) => sftpMkdirP(sftp, remotePath, options.mode ?? 0o700));
  }

  /**
   * Closes the connection for good: waiting calls fail with `ERR_SSH_DISCONNECTED`, open channels
   * close. Idempotent; resolves once the sockets are closed.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) {
      return this.#closing;
    }
    this.#setState('closed');
    this.#lifetime.abort(this.#closedError());
    this.#scheduler.failWaiting(this.#closedError());
    const session = this.#session;
    this.#session = undefined;
    this.#closing = session === undefined ? Promise.resolve() : endSession(session);
    return this.#closing;
  }

  /** Same as {@link SshConnection.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #setState(state: SshConnectionState): void {
    const previous = this.#state;
    if (previous === state || previous === 'closed') {
      return;
    }
    this.#state = state;
    this.#options.logger.debug(`SSH ${this.#target}: ${previous} -> ${state}`);
    this.emit('state', state, previous);
  }

  #closedError(): SlurmTransportError {
    return new SlurmTransportError(
      'ERR_SSH_DISCONNECTED',
      `The connection to ${this.#target} has been closed.`,
    );
  }

  async #readySession(signal: AbortSignal | undefined): Promise<SshSession> {
    for (;;) {
      if (this.#state === 'closed') {
        throw this.#closedError();
      }
      if (signal?.aborted) {
        throw signalError(signal, 'connect');
      }
      if (this.#session !== undefined) {
        return this.#session;
      }
      this.#connecting ??= this.#startConnecting('connecting');
      await raceSignal(this.#connecting, signal);
    }
  }

  #startConnecting(mode: 'connecting' | 'reconnecting'): Promise<SshSession> {
    this.#setState(mode);
    const cycle = this.#connectCycle(mode).then(
      (session) => {
        this.#connecting = undefined;
        if (this.#state === 'closed') {
          void endSession(session);
          throw this.#closedError();
        }
        this.#session = session;
        this.#lastError = undefined;
        this.#scheduler.reset();
        this.#setState('ready');
        return session;
      },
      (error: unknown) => {
        this.#connecting = undefined;
        if (this.#state !== 'closed') {
          this.#lastError = error as SlurmTransportError;
          this.#setState('idle');
        }
        throw error;
      },
    );
    cycle.catch(() => {});
    return cycle;
  }

  async #connectCycle(mode: 'connecting' | 'reconnecting'): Promise<SshSession> {
    const { reconnect, logger } = this.#options;
    const attempts = mode === 'connecting' || reconnect === false ? 1 : reconnect.maxAttempts;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (mode === 'reconnecting' && reconnect !== false) {
        const delayMs = backoffDelay(attempt, reconnect);
        this.emit('reconnect', attempt, delayMs);
        logger.info(`Reconnecting to ${this.#target} in ${delayMs} ms (attempt ${attempt} of ${attempts})`);
        await sleep(delayMs, this.#lifetime.signal);
      }
      try {
        return await openSession(this.#options, this.#lifetime.signal, (session, name) =>
          this.#onSessionLost(session, name),
        );
      } catch (error) {
        lastError = error;
        const code = (error as SlurmTransportError).code;
        if (this.#lifetime.signal.aborted || PERMANENT.has(code)) {
          throw error;
        }
        logger.warn(`Connecting to ${this.#target} failed: ${(error as Error).message}`);
      }
    }
    throw lastError;
  }

  #onSessionLost(session: SshSession, name: string): void {
    if (this.#session !== session) {
      // Closed by close(), or a second hop of a session already handled.
      session.lost ??= this.#closedError();
      return;
    }
    // `session.lost` already holds the mapped ssh2 error (e.g. a keepalive timeout) if there was one.
    const cause = session.lost;
    const hop = name === this.#target ? '' : ` (through the jump host ${name})`;
    const error = new SlurmTransportError(
      'ERR_SSH_DISCONNECTED',
      cause === undefined
        ? `The connection to ${this.#target}${hop} was closed by the server or the network.`
        : `The connection to ${this.#target}${hop} was lost: ${cause.message}`,
      { cause, level: cause?.level },
    );
    session.lost = error;
    this.#session = undefined;
    void endSession(session);
    if (this.#state === 'closed') {
      return;
    }
    this.#lastError = error;
    this.#options.logger.warn(error.message);
    this.emit('disconnect', error);
    if (this.#options.reconnect === false) {
      this.#setState('idle');
    } else {
      this.#connecting ??= this.#startConnecting('reconnecting');
    }
  }

  async #withSftp<T>(signal: AbortSignal | undefined, use: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    const {
      channel: sftp,
      session,
      release,
    } = await openScheduledChannel(this.#channels, signal, openSftpChannel);
    onceClosed(sftp, release);
    const onAbort = () => sftp.end();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await use(sftp);
    } catch (error) {
      if (signal?.aborted) {
        throw signalError(signal, 'SFTP operation');
      }
      throw session.lost ?? error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      sftp.end();
    }
  }
}
