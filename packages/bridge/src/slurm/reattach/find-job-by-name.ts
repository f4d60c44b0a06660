import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../../errors.js';

/** Options of {@link findJobByName}. */
export interface FindJobByNameOptions {
  signal?: AbortSignal | undefined;
  /**
   * Extra lookups after the first finds nothing, `retryDelayMs` apart: slurmdbd may record a job
   * a moment after slurmctld forgot it.
   * @default 2
   */
  retries?: number;
  /** @default 2000 */
  retryDelayMs?: number;
}

/** Job ids in `squeue`/`sacct` output, one per line; array tasks and steps are skipped. */
export function parseJobIds(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^\d+$/.test(line));
}

async function lookup(
  executor: RemoteExecutor,
  argv: string[],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const result = await executor.exec(argv, {
    timeoutMs: 60_000,
    ...(signal === undefined ? {} : { signal }),
  });
  if (result.exitCode !== 0) {
    // A failed query must not read as "no such job": that would submit the step a second time.
    throw new BridgeError(
      'ERR_BRIDGE_RELAY',
      `\`${argv.join(' ')}\` failed on the cluster (exit code ${result.exitCode ?? `signal ${result.signal}`}): ${result.stderr.trim() || '(no error output)'}. Nothing was submitted; launch the step again once Slurm answers.`,
    );
  }
  return parseJobIds(result.stdout);
}

/**
 * The id of the job named `jobName`, if Slurm knows one: `squeue` for jobs still in slurmctld's
 * memory, else `sacct` for the last two weeks (the newest match of several).
 * @throws {BridgeError} `ERR_BRIDGE_RELAY` when `squeue` or `sacct` fails.
 */
export async function findJobByName(
  executor: RemoteExecutor,
  jobName: string,
  options: FindJobByNameOptions = {},
): Promise<string | undefined> {
  const { signal } = options;
  const retries = options.retries ?? 2;
  for (let attempt = 0; ; attempt += 1) {
    const queued = await lookup(
      executor,
      ['squeue', '--noheader', '--states=all', '--format=%i', `--name=${jobName}`],
      signal,
    );
    if (queued.length > 0) return queued.at(-1);
    const accounted = await lookup(
      executor,
      [
        'sacct',
        '--noheader',
        '--allocations',
        '--parsable2',
        '--format=JobID',
        `--name=${jobName}`,
        '--starttime=now-14days',
      ],
      signal,
    );
    if (accounted.length > 0) return accounted.at(-1);
    if (attempt >= retries) return undefined;
    await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 2000));
  }
}
