/** Checks job ids before they go into a command: `123`, `123_4` (array task), `123+1` (het component). */
export function checkJobIds(jobIds: readonly string[]): string[] {
  if (!Array.isArray(jobIds)) {
    throw new TypeError(`jobIds must be an array of job id strings, got ${JSON.stringify(jobIds)}`);
  }
  for (const jobId of jobIds) {
    checkJobId(jobId);
  }
  return [...new Set(jobIds)];
}

/** @throws {TypeError} unless `jobId` looks like a Slurm job id. */
export function checkJobId(jobId: string): string {
  if (typeof jobId !== 'string' || !/^\d+(?:_\d+)?(?:\+\d+)?$/.test(jobId)) {
    throw new TypeError(
      `not a Slurm job id: ${JSON.stringify(jobId)} (expected digits, as sbatch printed them, e.g. "12345")`,
    );
  }
  return jobId;
}
