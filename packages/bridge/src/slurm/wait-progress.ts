import { type JobStateChange, jobPhase } from '@slurm-pipes/slurm-transport';
import { describeChange } from './follow-job.js';

/**
 * The line to log while a job has waited `waitedMs` in the queue since its last change of state:
 * `still waiting after 60 s: Slurm job 12 PENDING (JobHeldUser): Held by its owner. … Fix: …`.
 * A held job's line names the fix (`scontrol release <id>`), so a long wait is never silent.
 * @returns undefined once the job left the queue (running jobs speak through their messages).
 */
export function waitProgressLine(last: JobStateChange, waitedMs: number): string | undefined {
  if (jobPhase(last.state) !== 'queued' || last.terminal) return undefined;
  return `still waiting after ${Math.round(waitedMs / 1000)} s: ${describeChange(last)}`;
}
