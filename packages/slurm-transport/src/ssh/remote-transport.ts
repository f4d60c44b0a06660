import type { Readable, Writable } from 'node:stream';
import type { RemoteExecutor } from './remote-executor.js';

/** Options of {@link RemoteSpawner.spawn}. */
export interface SpawnOptions {
  /** Aborting closes the channel; the process's `exited` promise then rejects with `ERR_ABORTED`. */
  signal?: AbortSignal;
}

/** How a spawned remote command ended. */
export interface RemoteExit {
  /** Exit status; `null` when killed by a signal or the server sent none. */
  exitCode: number | null;
  /** Signal name without `SIG` (e.g. `'TERM'`), else `null`. */
  signal: string | null;
}

/**
 * A long-running remote command on its own channel, with streaming stdio. Holds one channel slot
 * (see `SshConnectionOptions.maxChannels`) until it ends.
 */
export interface RemoteProcess {
  /** The command's standard output, as raw bytes. */
  readonly stdout: Readable;
  /** The command's standard error, as raw bytes. */
  readonly stderr: Readable;
  /** The command's standard input; `end()` sends EOF. */
  readonly stdin: Writable;
  /**
   * Settles once the channel has closed and stdout/stderr have ended.
   * @throws {SlurmTransportError} `ERR_SSH_DISCONNECTED` when the connection dropped first,
   *   `ERR_ABORTED` when the spawn's signal aborted.
   */
  readonly exited: Promise<RemoteExit>;
  /** Sends EOF, then closes the channel; idempotent. The remote command sees stdin end. */
  close(): void;
}

/** Starts long-running remote commands (used by `tailRemoteFiles`). */
export interface RemoteSpawner {
  /**
   * Starts `argv` (quoted exactly as by {@link RemoteExecutor.exec}) and resolves once its channel
   * is open. Waits for a free channel and for a reconnect in progress.
   * @throws {SlurmTransportError} as {@link RemoteExecutor.exec}.
   */
  spawn(argv: readonly string[], options?: SpawnOptions): Promise<RemoteProcess>;
}

/** What {@link RemoteFileStore.stat} reports. */
export interface RemoteStats {
  /** Size in bytes. */
  size: number;
  /** Permission and type bits (`st_mode`). */
  mode: number;
  /** Modification time. */
  mtime: Date;
  isFile: boolean;
  isDirectory: boolean;
}

/** Options of {@link RemoteFileStore.uploadFile}. */
export interface UploadFileOptions {
  /**
   * File name inside `<remoteCacheDir>/<sha256>/`.
   * @default the local file's base name
   */
  name?: string;
  /**
   * Mode of the uploaded file.
   * @default 0o644 (0o755 when the local file is executable by its owner)
   */
  mode?: number;
  /**
   * Mode of directories created on the way.
   * @default 0o700
   */
  dirMode?: number;
  /** Called with bytes sent so far and the total while uploading (not on a cache hit). */
  onProgress?: (transferred: number, total: number) => void;
  /** Aborting closes the SFTP session and rejects with `ERR_ABORTED`; no partial file is left in place. */
  signal?: AbortSignal;
}

/** Where an upload landed. */
export interface UploadResult {
  /** `<remoteCacheDir>/<sha256>/<name>`. */
  remotePath: string;
  /** Hex SHA-256 of the content. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** `false` when the file was already in the cache and nothing was sent. */
  uploaded: boolean;
}

/** Options of the remote file helpers that take only a signal. */
export interface RemoteFileOptions {
  signal?: AbortSignal;
}

/** Options of {@link RemoteFileStore.mkdir}. */
export interface MkdirOptions extends RemoteFileOptions {
  /**
   * Mode of each directory created (existing ones are left alone).
   * @default 0o700
   */
  mode?: number;
}

/**
 * File operations on the login node (SFTP for `SshConnection`). Remote paths are absolute or
 * relative to the login directory; `~` is not expanded.
 */
export interface RemoteFileStore {
  /**
   * Uploads `localPath` into the content-addressed cache `<remoteCacheDir>/<sha256>/<name>`,
   * skipping the transfer when that file already exists with the same size. The file is written
   * under a temporary name and renamed into place, so readers never see a partial file.
   * @throws {SlurmTransportError} `ERR_SFTP` (also for an unreadable local file), `ERR_ABORTED`.
   */
  uploadFile(localPath: string, remoteCacheDir: string, options?: UploadFileOptions): Promise<UploadResult>;
  /** Reads a whole remote file. @throws {SlurmTransportError} `ERR_SFTP` (also when missing). */
  readFile(remotePath: string, options?: RemoteFileOptions): Promise<Buffer>;
  /** Stats a remote path, following symlinks; `undefined` when it does not exist. @throws {SlurmTransportError} `ERR_SFTP`. */
  stat(remotePath: string, options?: RemoteFileOptions): Promise<RemoteStats | undefined>;
  /** `mkdir -p`: creates `remotePath` and missing parents with `mode`. @throws {SlurmTransportError} `ERR_SFTP`. */
  mkdir(remotePath: string, options?: MkdirOptions): Promise<void>;
}

/**
 * Everything the bridge needs from the login node. `SshConnection` implements it over one ssh2
 * connection; a later `MuxClient` implements the same over the multiplexing daemon's socket, so
 * callers depend on this interface, not on ssh2.
 */
export interface RemoteTransport extends RemoteExecutor, RemoteSpawner, RemoteFileStore {
  /** Releases the transport; idempotent. */
  close(): Promise<void>;
}
