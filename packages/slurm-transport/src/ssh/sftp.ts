import { posix } from 'node:path';
import type { SFTPWrapper, Stats, TransferOptions } from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import type { RemoteStats } from './remote-transport.js';

// Promise wrappers over ssh2's SFTP client, with errors that name the operation and the path.

// SSH_FX_NO_SUCH_FILE
const NO_SUCH_FILE = 2;

/** An SFTP error for `operation` on `path`. */
export function sftpError(operation: string, path: string, error: unknown): SlurmTransportError {
  const message = error instanceof Error ? error.message : String(error);
  return new SlurmTransportError('ERR_SFTP', `SFTP ${operation} ${JSON.stringify(path)} failed: ${message}`, {
    cause: error,
  });
}

function call<T>(
  operation: string,
  path: string,
  run: (callback: (error: unknown, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      run((error, value) => (error ? reject(sftpError(operation, path, error)) : resolve(value as T)));
    } catch (error) {
      reject(sftpError(operation, path, error));
    }
  });
}

/** Stats `path` (following symlinks); `undefined` when it does not exist. */
export async function sftpStat(sftp: SFTPWrapper, path: string): Promise<RemoteStats | undefined> {
  try {
    const stats = await call<Stats>('stat', path, (callback) => sftp.stat(path, callback));
    return {
      size: stats.size,
      mode: stats.mode,
      mtime: new Date(stats.mtime * 1000),
      isFile: stats.isFile(),
      isDirectory: stats.isDirectory(),
    };
  } catch (error) {
    if (
      (error as SlurmTransportError).cause instanceof Error &&
      ((error as SlurmTransportError).cause as { code?: unknown }).code === NO_SUCH_FILE
    ) {
      return undefined;
    }
    throw error;
  }
}

/** `mkdir -p path` with `mode` for each directory it creates. */
export async function sftpMkdirP(sftp: SFTPWrapper, path: string, mode: number): Promise<void> {
  const existing = await sftpStat(sftp, path);
  if (existing !== undefined) {
    if (!existing.isDirectory) {
      throw sftpError('mkdir', path, new Error('exists and is not a directory'));
    }
    return;
  }
  const parent = posix.dirname(path);
  if (parent !== path) {
    await sftpMkdirP(sftp, parent, mode);
  }
  try {
    await call<void>('mkdir', path, (callback) => sftp.mkdir(path, { mode }, callback));
  } catch (error) {
    // Lost a race with another process creating it: fine if it is a directory now.
    if ((await sftpStat(sftp, path))?.isDirectory !== true) {
      throw error;
    }
  }
}

/** Reads the whole file at `path`. */
export function sftpReadFile(sftp: SFTPWrapper, path: string): Promise<Buffer> {
  return call<Buffer>('read', path, (callback) => sftp.readFile(path, callback));
}

/** Renames `from` to `to`, replacing `to` atomically where the server supports `posix-rename@openssh.com`. */
export function sftpRename(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  return call<void>('rename', from, (callback) => {
    try {
      sftp.ext_openssh_rename(from, to, callback);
    } catch {
      // Not OpenSSH: plain SFTP rename, which fails if `to` exists (then another upload won, same content).
      sftp.rename(from, to, callback);
    }
  });
}

/** Removes the file at `path`. */
export function sftpUnlink(sftp: SFTPWrapper, path: string): Promise<void> {
  return call<void>('unlink', path, (callback) => sftp.unlink(path, callback));
}

/** Uploads `localPath` to `remotePath` with parallel requests. */
export function sftpPut(
  sftp: SFTPWrapper,
  localPath: string,
  remotePath: string,
  options: TransferOptions,
): Promise<void> {
  return call<void>('upload to', remotePath, (callback) =>
    sftp.fastPut(localPath, remotePath, options, callback),
  );
}
