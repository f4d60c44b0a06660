import type { SFTPWrapper } from 'ssh2';
import { SlurmTransportError } from '../errors.js';

// SSH_FX_FAILURE: SFTP version 3 has no "disk full" status, so a write to a full filesystem comes
// back as this generic failure; statvfs tells it apart.
const SFTP_FAILURE = 4;

/**
 * What the cluster's filesystem holding `path` has left, from OpenSSH's `statvfs@openssh.com`;
 * undefined when the server lacks the extension or the call fails.
 */
export interface RemoteDiskSpace {
  /** Bytes an unprivileged user may still write. */
  readonly availableBytes: number;
  /** The filesystem's size in bytes. */
  readonly totalBytes: number;
}

/** Asks the SFTP server how much room the filesystem of `path` has; undefined when it cannot tell. */
export function remoteDiskSpace(sftp: SFTPWrapper, path: string): Promise<RemoteDiskSpace | undefined> {
  return new Promise((resolve) => {
    try {
      sftp.ext_openssh_statvfs(path, (error, info) => {
        if (error !== undefined && error !== null) return resolve(undefined);
        const frsize = Number(info?.f_frsize ?? info?.f_bsize ?? 0);
        resolve({
          availableBytes: Number(info?.f_bavail ?? 0) * frsize,
          totalBytes: Number(info?.f_blocks ?? 0) * frsize,
        });
      });
    } catch {
      resolve(undefined);
    }
  });
}

/** True for an SFTP error that may mean a full disk (the generic `Failure` status). */
export function mayBeDiskFull(error: unknown): boolean {
  const cause = error instanceof SlurmTransportError ? error.cause : error;
  return (cause as { code?: unknown } | undefined)?.code === SFTP_FAILURE;
}

/**
 * The error for an upload of `bytes` to `remotePath` that failed because the filesystem is full,
 * or undefined when `space` shows room (then the original error stands). "Full" means less room
 * left than the file still needs, or under 1% of the filesystem.
 */
export function diskFullError(
  remotePath: string,
  bytes: number,
  space: RemoteDiskSpace | undefined,
  error: unknown,
): SlurmTransportError | undefined {
  if (space === undefined) return undefined;
  const full = space.availableBytes < bytes || space.availableBytes < space.totalBytes / 100;
  if (!full) return undefined;
  return new SlurmTransportError(
    'ERR_SFTP',
    `No space left on device (ENOSPC) on the cluster: uploading ${bytes} B to ${JSON.stringify(remotePath)} failed with ${space.availableBytes} B free of ${space.totalBytes} B on that filesystem. ` +
      'Fix: free space there (old run directories under <remoteBase>/runs can go once their steps ended), or set slurm.remoteBase (env SLURM_PIPES_REMOTE_BASE) to a filesystem with room; `df -h <dir>` on the login node shows the space.',
    { cause: error },
  );
}
