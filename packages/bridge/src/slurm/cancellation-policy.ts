/**
 * What to do with a submitted job when the bridge is asked to stop:
 * - `'cancel-job'`: `scancel` it, wait until Slurm reports it ended, and report `CANCELLED`
 *   (Dagster's Terminate, which sends SIGINT to the bridge);
 * - `'detach'`: leave it running and stop following it, so a later run can reattach through
 *   `job.json` (meant for restarts of the Dagster process; not chosen yet).
 */
export type AbortDecision = 'cancel-job' | 'detach';

/**
 * Decides from the abort reason what happens to the job. The one place where the SIGINT
 * (terminate: cancel) versus SIGTERM (restart: detach) distinction will be made; for now every
 * abort cancels, since Dagster's Terminate must never leave a job running.
 */
export function decideOnAbort(_reason: unknown): AbortDecision {
  return 'cancel-job';
}
