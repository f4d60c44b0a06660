import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';

/** Free and total space of a remote filesystem, in KiB, as `df -Pk` reports them. */
export interface DiskSpace {
  readonly availableKiB: number;
  readonly totalKiB: number;
}

/** Parses `df -Pk <path>` output (a header, then one line); undefined when it has no data line. */
export function parseDfPk(stdout: string): DiskSpace | undefined {
  const line = stdout.trim().split('\n')[1];
  const fields = line?.trim().split(/\s+/) ?? [];
  const totalKiB = Number(fields[1]);
  const availableKiB = Number(fields[3]);
  if (!Number.isFinite(totalKiB) || !Number.isFinite(availableKiB) || fields.length < 6) return undefined;
  return { availableKiB, totalKiB };
}

/**
 * True when a filesystem has no room left worth the name: under 64 KiB, or under 1% of its size
 * (a job writing messages, stdout or stderr there fails with ENOSPC).
 */
export function isDiskFull(space: DiskSpace): boolean {
  return space.availableKiB < 64 || space.availableKiB < space.totalKiB / 100;
}

/**
 * The sentence to add to a failed job's message when its run directory's filesystem is full, or
 * undefined when it is not (or `df` cannot tell). Asks `df -Pk` on the login node, within
 * `timeoutMs` (default 20000); never throws: this only explains a failure already known.
 */
export async function runDirFullNote(
  executor: RemoteExecutor,
  runDir: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<string | undefined> {
  try {
    const result = await executor.exec(['df', '-Pk', '--', runDir], {
      timeoutMs: options.timeoutMs ?? 20_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const space = result.exitCode === 0 ? parseDfPk(result.stdout) : undefined;
    if (space === undefined || !isDiskFull(space)) return undefined;
    return (
      `The filesystem of the run directory ${runDir} is full (No space left on device, ENOSPC: ${space.availableKiB} KiB free of ${space.totalKiB} KiB), so the job could not write its messages, stdout or stderr; every message it wrote before that was relayed. ` +
      'Fix: free space there (old run directories under <remoteBase>/runs can go once their steps ended), make the payload write less, or set slurm.remoteBase (env SLURM_PIPES_REMOTE_BASE) to a filesystem with room.'
    );
  } catch {
    return undefined;
  }
}
