/**
 * What to do with a submitted job when the bridge is asked to stop:
 * - `'cancel-job'`: `scancel` it, wait until Slurm reports it ended, and report `CANCELLED`;
 * - `'detach'`: leave it running and stop following it; a re-launch of the step reattaches
 *   through `job.json` in its run directory and never submits again.
 */
export type AbortDecision = 'cancel-job' | 'detach';

/**
 * Decides from the abort reason what happens to the job — the one place where Terminate and
 * restart are told apart. SIGTERM (a supervisor stopping Dagster for a restart or deploy) detaches,
 * so no work is lost; SIGINT (Dagster's Terminate, forwarded by PipesSubprocessClient) and any
 * other stop cancel, so a terminated run never leaves a job behind. (The CLI turns signals into
 * reasons; a SIGTERM within 300 ms of a SIGINT wins, since stopping Dagster's process group
 * sends both.) Wait limits (`slurm.*TimeoutSeconds`) are decided by `slurm.cancelOnTimeout`.
 */
export function decideOnAbort(reason: unknown): AbortDecision {
  const signal = (reason as { signal?: unknown } | null)?.signal;
  return signal === 'SIGTERM' ? 'detach' : 'cancel-job';
}
