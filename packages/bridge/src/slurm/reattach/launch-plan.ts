import type { StepJobRecord, StepRecords } from './job-record.js';

/**
 * What a launch of a step does, from the records an earlier launch left in its run directory:
 * - `'reattach'`: `job.json` names a job whose end no bridge has relayed yet (running, queued,
 *   or finished while nobody watched): follow it and relay it from the start;
 * - `'find-by-name'`: a launch wrote `submit.json` and may have died between `sbatch` and
 *   `job.json`: look the job up by its unique name before anything else;
 * - `'submit'`: no job, or only one already collected (a Dagster retry after the step failed, a
 *   re-execution after it succeeded): submit a new job;
 * - `'refuse'`: a record exists but cannot be read; submitting could run the step twice.
 */
export type LaunchPlan =
  | { kind: 'reattach'; record: StepJobRecord }
  | { kind: 'find-by-name'; jobName: string }
  | { kind: 'submit'; previous: StepJobRecord | undefined }
  | { kind: 'refuse'; why: string };

/**
 * Decides a launch from a run directory's records (I/O-free). The intent in `submit.json` wins
 * over a collected `job.json` when it names another job: it was written by a later launch.
 */
export function planLaunch(records: StepRecords): LaunchPlan {
  const { record, intent, unreadable } = records;
  if (record !== undefined && record.collected === undefined) return { kind: 'reattach', record };
  if (unreadable.length > 0) return { kind: 'refuse', why: unreadable.join('; ') };
  if (intent !== undefined && intent.jobName !== record?.jobName) {
    return { kind: 'find-by-name', jobName: intent.jobName };
  }
  return { kind: 'submit', previous: record };
}
