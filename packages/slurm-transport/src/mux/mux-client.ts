import { resolve } from 'node:path';
import { SlurmTransportError } from '../errors.js';
import { signalError } from '../ssh/abort.js';
import {
  describeEndpoint,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
  type SshConnectionOptions,
} from '../ssh/connection-options.js';
import type {
  KeyboardInteractiveChallenge,
  KeyboardInteractiveResponder,
} from '../ssh/keyboard-interactive.js';
import { type Logger, silentLogger } from '../ssh/logger.js';
import { buildRemoteCommand } from '../ssh/remote-command.js';
import type { ExecOptions, ExecResult } from '../ssh/remote-executor.js';
import type {
  MkdirOptions,
  RemoteFileOptions,
  RemoteProcess,
  RemoteStats,
  RemoteTransport,
  SpawnOptions,
  UploadFileOptions,
  UploadResult,
} from '../ssh/remote-transport.js';
import { spawnThroughMux } from './client-process.js';
import { respondersFor } from './client-responders.js';
import { dialDaemon } from './daemon-launcher.js';
import { type MuxPathOptions, type MuxPaths, resolveMuxPaths } from './mux-paths.js';
import type { MuxSocket } from './mux-socket.js';
import {
  ConnectResult,
  EmptyResult,
  ExecResultValue,
  MuxStatus,
  ReadFileResult,
  StatResult,
  UploadResultValue,
} from './wire-frames.js';
import { toWireOptions } from './wire-options.js';

/** Options of {@link MuxClient.connect}. */
export interface MuxClientOptions extends MuxPathOptions {
  /**
   * Command that starts a daemon when none answers, run detached with its output appended to the
   * daemon log; the bridge CLI passes `[process.execPath, <cli.js>, 'mux', 'serve']`.
   * @default undefined (only a running daemon is used)
   */
  daemonCommand?: readonly string[];
  /**
   * How long to wait for a started daemon to accept connections, in ms.
   * @default 15000
   */
  startTimeoutMs?: number;
  /**
   * Receives client events; never secrets.
   * @default the SSH options' `logger`, else silent
   */
  logger?: Logger;
}

// One attachment of this client to its shared connection over one daemon socket.
interface Attachment {
  socket: MuxSocket;
  conn: string;
}

/**
 * A {@link RemoteTransport} over the multiplexing daemon: every call runs on the daemon's shared
 * SSH connection for this `user@host:port`, so N bridge processes cost one SSH login. Behaves as
 * `SshConnection` (same errors, same argv quoting). Keyboard-interactive challenges of a (re)login
 * are relayed here and answered with this process's responder (one-time code from the
 * environment, or the terminal). If the daemon goes away, running calls fail with
 * `ERR_SSH_DISCONNECTED` and the next call dials (and, with `daemonCommand`, restarts) it.
 */
export class MuxClient implements RemoteTransport {
  readonly #options: ResolvedConnectionOptions;
  readonly #paths: MuxPaths;
  readonly #settings: MuxClientOptions;
  readonly #logger: Logger;
  readonly #responders: ReadonlyMap<string, KeyboardInteractiveResponder>;
  readonly #target: string;
  #attaching: Promise<Attachment> | undefined;
  #attachment: Attachment | undefined;
  #closed = false;

  private constructor(options: ResolvedConnectionOptions, paths: MuxPaths, settings: MuxClientOptions) {
    this.#options = options;
    this.#paths = paths;
    this.#settings = settings;
    this.#logger = settings.logger ?? options.logger ?? silentLogger;
    this.#responders = respondersFor(options.endpoint);
    this.#target = describeEndpoint(options.endpoint);
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /**
   * Dials the daemon (starting it with `daemonCommand` if needed) and waits until the shared SSH
   * connection for `ssh` is ready.
   * @throws {SlurmTransportError} `ERR_MUX` when the daemon cannot be used; the SSH errors of
   *   `SshConnection.connect` (`ERR_SSH_AUTH`, ...) as the daemon reports them.
   * @throws {TypeError | RangeError} for invalid options.
   */
  static async connect(ssh: SshConnectionOptions, options: MuxClientOptions = {}): Promise<MuxClient> {
    const startTimeoutMs = options.startTimeoutMs ?? 15_000;
    if (!Number.isInteger(startTimeoutMs) || startTimeoutMs < 1) {
      throw new RangeError(`startTimeoutMs must be a positive integer, got ${String(startTimeoutMs)}`);
    }
    if (
      options.daemonCommand !== undefined &&
      (!Array.isArray(options.daemonCommand) || options.daemonCommand.length === 0)
    ) {
      throw new TypeError('daemonCommand must be a non-empty array of strings');
    }
    const client = new MuxClient(resolveConnectionOptions(ssh), resolveMuxPaths(options), {
      ...options,
      startTimeoutMs,
    });
    try {
      await client.#attach();
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /** `user@host:port` of the target. */
  get target(): string {
    return this.#target;
  }

  /** The daemon's files. */
  get paths(): MuxPaths {
    return this.#paths;
  }

  /** {@inheritDoc RemoteExecutor.exec} */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    buildRemoteCommand(argv);
    if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)) {
      throw new RangeError(`timeoutMs must be a positive number, got ${String(options.timeoutMs)}`);
    }
    const { stdin, timeoutMs, signal } = options;
    const { socket, conn } = await this.#attach(signal);
    return socket.request(
      {
        type: 'exec',
        conn,
        argv: [...argv],
        ...(stdin === undefined
          ? {}
          : { stdin: typeof stdin === 'string' ? stdin : { base64: stdin.toString('base64') } }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      },
      ExecResultValue,
      { signal },
    );
  }

  /** {@inheritDoc RemoteSpawner.spawn} */
  async spawn(argv: readonly string[], options: SpawnOptions = {}): Promise<RemoteProcess> {
    buildRemoteCommand(argv);
    const { socket, conn } = await this.#attach(options.signal);
    return spawnThroughMux(socket, { type: 'spawn', conn, argv: [...argv] }, options.signal);
  }

  /** {@inheritDoc RemoteFileStore.uploadFile} The daemon reads `localPath` itself: it runs on this machine as this user. */
  async uploadFile(
    localPath: string,
    remoteCacheDir: string,
    options: UploadFileOptions = {},
  ): Promise<UploadResult> {
    const { name, mode, dirMode, onProgress, signal } = options;
    const { socket, conn } = await this.#attach(signal);
    return socket.request(
      {
        type: 'upload',
        conn,
        localPath: resolve(localPath),
        remoteCacheDir,
        progress: onProgress !== undefined,
        ...(name === undefined ? {} : { name }),
        ...(mode === undefined ? {} : { mode }),
        ...(dirMode === undefined ? {} : { dirMode }),
      },
      UploadResultValue,
      { signal, onProgress },
    );
  }

  /** {@inheritDoc RemoteFileStore.readFile} */
  async readFile(remotePath: string, options: RemoteFileOptions = {}): Promise<Buffer> {
    const { socket, conn } = await this.#attach(options.signal);
    const { base64 } = await socket.request(
      { type: 'readFile', conn, path: remotePath },
      ReadFileResult,
      options,
    );
    return Buffer.from(base64, 'base64');
  }

  /** {@inheritDoc RemoteFileStore.stat} */
  async stat(remotePath: string, options: RemoteFileOptions = {}): Promise<RemoteStats | undefined> {
    const { socket, conn } = await this.#attach(options.signal);
    const stats = await socket.request({ type: 'stat', conn, path: remotePath }, StatResult, options);
    if (stats === null) return undefined;
    const { size, mode, mtimeMs, isFile, isDirectory } = stats;
    return { size, mode, mtime: new Date(mtimeMs), isFile, isDirectory };
  }

  /** {@inheritDoc RemoteFileStore.mkdir} */
  async mkdir(remotePath: string, options: MkdirOptions = {}): Promise<void> {
    const { mode, signal } = options;
    const { socket, conn } = await this.#attach(signal);
    await socket.request(
      { type: 'mkdir', conn, path: remotePath, ...(mode === undefined ? {} : { mode }) },
      EmptyResult,
      {
        signal,
      },
    );
  }

  /** What the daemon reports about its connections and clients. @throws {SlurmTransportError} as the other calls. */
  async status(): Promise<MuxStatus> {
    const { socket } = await this.#attach();
    return socket.request({ type: 'status' }, MuxStatus);
  }

  /** Detaches from the daemon (the shared connection stays up for other clients); idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const attachment = this.#attachment;
    this.#attachment = undefined;
    await attachment?.socket.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // The live attachment, or a new one: dial (maybe start) the daemon and send `connect`. An
  // aborted `signal` stops this caller waiting; the attempt goes on for the others.
  #attach(signal?: AbortSignal): Promise<Attachment> {
    if (signal?.aborted) {
      return Promise.reject(signalError(signal));
    }
    if (this.#closed) {
      return Promise.reject(
        new SlurmTransportError('ERR_SSH_DISCONNECTED', `The connection to ${this.#target} has been closed.`),
      );
    }
    if (this.#attachment !== undefined && this.#attachment.socket.lost === undefined) {
      return Promise.resolve(this.#attachment);
    }
    this.#attaching ??= this.#dialAndConnect().finally(() => {
      this.#attaching = undefined;
    });
    const attaching = this.#attaching;
    if (signal === undefined) {
      return attaching;
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signalError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      attaching.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async #dialAndConnect(): Promise<Attachment> {
    const socket = await dialDaemon(this.#paths, {
      daemonCommand: this.#settings.daemonCommand,
      startTimeoutMs: this.#settings.startTimeoutMs ?? 15_000,
      logger: this.#logger,
      env: this.#settings.env ?? process.env,
    });
    socket.onPrompt = (challenge) => this.#answer(challenge);
    try {
      const { conn } = await socket.request(
        { type: 'connect', options: toWireOptions(this.#options) },
        ConnectResult,
      );
      if (this.#closed) {
        throw new SlurmTransportError(
          'ERR_SSH_DISCONNECTED',
          `The connection to ${this.#target} has been closed.`,
        );
      }
      this.#attachment = { socket, conn };
      this.#logger.debug(`Using the shared SSH connection ${conn} through ${this.#paths.socketPath}`);
      return this.#attachment;
    } catch (error) {
      await socket.close();
      throw error;
    }
  }

  async #answer(challenge: KeyboardInteractiveChallenge): Promise<readonly string[] | undefined> {
    const responder = this.#responders.get(challenge.target);
    return responder === undefined ? undefined : responder(challenge);
  }
}
