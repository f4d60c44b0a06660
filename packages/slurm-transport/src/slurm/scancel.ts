import type { RemoteExecutor } from '../ssh/remote-executor.js';
import { checkJobId } from './job-id.js';
import { commandError, findHint, runSlurmCommand, type SlurmCommandOptions } from './slurm-command.js';

/** Signals `scancel --signal` can deliver to a job. */
export type ScancelSignal =
  | 'TERM'
  | 'INT'
  | 'HUP'
  | 'QUIT'
  | 'KILL'
  | 'USR1'
  | 'USR2'
  | 'ALRM'
  | 'CONT'
  | 'STOP';

const SIGNALS: ReadonlySet<string> = new Set<ScancelSignal>([
  'TERM',
  'INT',
  'HUP',
  'QUIT',
  'KILL',
  'USR1',
  'USR2',
  'ALRM',
  'CONT',
  'STOP',
]);

/** Options of {@link cancelJob}. */
export interface CancelJobOptions extends SlurmCommandOptions {
  /**
   * Only deliver this signal (`scancel --signal=<sig>`) instead of cancelling: the job keeps
   * running unless the signal ends it, and its state does not become `CANCELLED` by itself.
   * Named like execa's `killSignal` because `signal` is the `AbortSignal` throughout this package.
   * @default undefined (cancel the job: Slurm sends SIGTERM, then SIGKILL after KillWait)
   */
  killSignal?: ScancelSignal | undefined;
  /**
   * `scancel --batch`: deliver {@link killSignal} to the batch shell only (which can trap and
   * forward it), not to `srun` steps. Requires `killSignal`.
   * @default false
   */
  batchOnly?: boolean | undefined;
}

/**
 * How a cancellation ended: `requested` (Slurm accepted it; the job ends shortly, watch it for
 * the final state) or `already-finished` (it had completed, or slurmctld no longer knows it).
 */
export type CancelOutcome = 'requested' | 'already-finished';

// scancel's wording for a job that cannot be cancelled because it is over.
const ALREADY_FINISHED = /already completing or completed|Job has already finished|Invalid job id specified/i;

const SCANCEL_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /Access\/permission denied|not job owner|Not owner/i,
    'Only the job’s owner (or an operator) can cancel it: use the account that submitted it.',
  ],
  [/Job is pending execution/i, 'A pending job cannot be signalled; omit killSignal to cancel it instead.'],
];

/** `scancel --verbose` argv for `jobId` and `options`. */
export function buildScancelArgv(
  jobId: string,
  options: Pick<CancelJobOptions, 'killSignal' | 'batchOnly'> = {},
): string[] {
  // Without --verbose, Slurm 22.05's scancel says nothing and exits 0 even when the job could not
  // be signalled (finished, unknown, not ours); with it the reason is on stderr (still exit 0).
  const argv = ['scancel', '--verbose'];
  if (options.killSignal !== undefined) {
    if (!SIGNALS.has(options.killSignal)) {
      throw new RangeError(
        `killSignal must be one of ${[...SIGNALS].join(', ')} (without "SIG"), got ${JSON.stringify(options.killSignal)}`,
      );
    }
    argv.push(`--signal=${options.killSignal}`);
  }
  if (options.batchOnly === true) {
    if (options.killSignal === undefined) {
      throw new TypeError(
        'batchOnly needs killSignal: it says where a signal goes. To cancel the whole job, omit both.',
      );
    }
    argv.push('--batch');
  }
  argv.push(checkJobId(jobId));
  return argv;
}

/**
 * Cancels a job with `scancel` (or, with `killSignal`, only signals it). A job that has already
 * finished, or that slurmctld has forgotten, counts as success (`'already-finished'`).
 * @throws {TypeError | RangeError} for a bad job id or option.
 * @throws {SlurmTransportError} `ERR_SLURM_CANCEL` when scancel fails otherwise (e.g. not the
 *   job's owner); `ERR_ABORTED`, `ERR_SSH_*` from the executor.
 */
export async function cancelJob(
  executor: RemoteExecutor,
  jobId: string,
  options: CancelJobOptions = {},
): Promise<CancelOutcome> {
  const argv = buildScancelArgv(jobId, options);
  const result = await runSlurmCommand(executor, argv, options);
  if (ALREADY_FINISHED.test(result.stderr)) {
    return 'already-finished';
  }
  if (result.exitCode !== 0 || /\berror:/i.test(result.stderr)) {
    throw commandError(
      'ERR_SLURM_CANCEL',
      `scancel could not ${options.killSignal === undefined ? 'cancel' : `signal (SIG${options.killSignal})`} job ${jobId}`,
      argv,
      result,
      findHint(result.stderr, SCANCEL_HINTS),
    );
  }
  return 'requested';
}
