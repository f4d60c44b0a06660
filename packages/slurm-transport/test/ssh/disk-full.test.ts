import { describe, expect, it } from 'vitest';
import { SlurmTransportError } from '../../src/errors.js';
import { diskFullError, mayBeDiskFull } from '../../src/ssh/disk-full.js';

const failure = Object.assign(new Error('Failure'), { code: 4 });
const wrapped = new SlurmTransportError('ERR_SFTP', 'SFTP upload to "/b/f" failed: Failure', {
  cause: failure,
});

describe('disk-full diagnosis of SFTP uploads', () => {
  it('suspects a full disk only for the generic SFTP Failure status', () => {
    expect(mayBeDiskFull(wrapped)).toBe(true);
    expect(mayBeDiskFull(Object.assign(new Error('Permission denied'), { code: 3 }))).toBe(false);
    expect(mayBeDiskFull(new Error('x'))).toBe(false);
  });

  it('names ENOSPC, the bytes, the free space and the fix when the filesystem has no room', () => {
    const error = diskFullError('/b/f', 72_322, { availableBytes: 0, totalBytes: 65_536 }, wrapped);
    expect(error).toBeInstanceOf(SlurmTransportError);
    expect(error?.code).toBe('ERR_SFTP');
    expect(error?.message).toMatch(
      /^No space left on device \(ENOSPC\) on the cluster: uploading 72322 B to "\/b\/f" failed with 0 B free of 65536 B/,
    );
    expect(error?.message).toMatch(/Fix: free space there.*SLURM_PIPES_REMOTE_BASE/);
    expect(error?.cause).toBe(wrapped);
  });

  it('leaves the original error when there is room or the space is unknown', () => {
    expect(
      diskFullError('/b/f', 100, { availableBytes: 10_000_000, totalBytes: 100_000_000 }, wrapped),
    ).toBeUndefined();
    expect(diskFullError('/b/f', 100, undefined, wrapped)).toBeUndefined();
  });
});
