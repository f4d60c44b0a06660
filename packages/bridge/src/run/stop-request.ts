/**
 * Why the bridge was asked to stop: the abort reason of a run. Dagster's Terminate button makes
 * PipesSubprocessClient send SIGINT; a process supervisor stopping Dagster (restart, deploy)
 * sends SIGTERM. Slurm mode cancels the job for the first and leaves it running for the second.
 */
export class StopRequested extends Error {
  override readonly name = 'StopRequested';
  constructor(readonly signal: NodeJS.Signals) {
    super(`slurm-pipes received ${signal}`);
  }
}
