import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import { diskFullError, mayBeDiskFull, remoteDiskSpace } from './disk-full.js';
import type { UploadFileOptions, UploadResult } from './remote-transport.js';
import { sftpMkdirP, sftpPut, sftpRename, sftpStat, sftpUnlink } from './sftp.js';

/** Runs `use` on an SFTP session that is closed afterwards (and on abort). */
export type WithSftp = <T>(
  signal: AbortSignal | undefined,
  use: (sftp: SFTPWrapper) => Promise<T>,
) => Promise<T>;

/** Implements {@link RemoteFileStore.uploadFile}: hash locally, skip if cached, else upload to a temp name and rename. */
export async function uploadToCache(
  withSftp: WithSftp,
  localPath: string,
  remoteCacheDir: string,
  options: UploadFileOptions = {},
): Promise<UploadResult> {
  const name = options.name ?? basename(localPath);
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new TypeError(`uploadFile: name must be a plain file name, got ${JSON.stringify(name)}`);
  }
  if (typeof remoteCacheDir !== 'string' || remoteCacheDir === '') {
    throw new TypeError(
      `uploadFile: remoteCacheDir must be a non-empty string, got ${JSON.stringify(remoteCacheDir)}`,
    );
  }
  const { size, executable, sha256 } = await describeLocalFile(localPath);
  const directory = posix.join(remoteCacheDir, sha256);
  const remotePath = posix.join(directory, name);
  const mode = options.mode ?? (executable ? 0o755 : 0o644);

  return withSftp(options.signal, async (sftp) => {
    const cached = await sftpStat(sftp, remotePath);
    if (cached?.isFile === true && cached.size === size) {
      return { remotePath, sha256, size, uploaded: false };
    }
    await sftpMkdirP(sftp, directory, options.dirMode ?? 0o700);
    const temporary = posix.join(directory, `.${name}.${randomBytes(6).toString('hex')}.partial`);
    const { onProgress } = options;
    try {
      await sftpPut(sftp, localPath, temporary, {
        mode,
        ...(onProgress === undefined ? {} : { step: (transferred: number) => onProgress(transferred, size) }),
      });
      await sftpRename(sftp, temporary, remotePath);
    } catch (error) {
      // Asked before the partial file goes, as its bytes are what filled the disk.
      const space = mayBeDiskFull(error) ? await remoteDiskSpace(sftp, directory) : undefined;
      await sftpUnlink(sftp, temporary).catch(() => {});
      throw diskFullError(remotePath, size, space, error) ?? error;
    }
    return { remotePath, sha256, size, uploaded: true };
  });
}

async function describeLocalFile(
  localPath: string,
): Promise<{ size: number; executable: boolean; sha256: string }> {
  try {
    const stats = await stat(localPath);
    if (!stats.isFile()) {
      throw new Error('not a regular file');
    }
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(localPath)) {
      hash.update(chunk as Buffer);
    }
    return { size: stats.size, executable: (stats.mode & 0o100) !== 0, sha256: hash.digest('hex') };
  } catch (error) {
    throw new SlurmTransportError(
      'ERR_SFTP',
      `Cannot read the local file ${localPath} to upload: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
