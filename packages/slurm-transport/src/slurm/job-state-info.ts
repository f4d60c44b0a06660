import type { JobState } from './job-state.js';

/** What a {@link JobState} means for the person waiting on the job, and what to do about it. */
export interface JobStateDescription {
  readonly state: JobState;
  /** One sentence: what happened or is happening. */
  readonly meaning: string;
  /** The suggested fix for failure and stuck states; `undefined` when nothing needs doing. */
  readonly fix: string | undefined;
}

type Info = readonly [meaning: string, fix?: string];

// Key names (`mem`, `time_limit`, …) are those of SlurmQueueConfig / extra_slurm_opts.
const INFO: Readonly<Record<JobState, Info>> = {
  PENDING: ['The job is waiting in the queue.'],
  RUNNING: ['The job is running.'],
  SUSPENDED: [
    'The job holds its allocation but its processes are stopped (preemption by suspension, gang scheduling or an administrator).',
    'Wait for it to resume; if it stays suspended, ask the cluster administrators.',
  ],
  COMPLETED: ['The batch script exited with code 0.'],
  CANCELLED: [
    'The job was cancelled, by its owner (scancel, a Dagster terminate), an administrator, or Slurm itself (e.g. a dependency that can never be met).',
    'If nobody cancelled it on purpose, check `sacct -j <id> --format=JobID,State,Reason` and the job log for who did.',
  ],
  FAILED: [
    'The batch script exited with a non-zero code, or a job step could not be launched.',
    'Read the job’s stderr file for the error; the exit code says which command failed.',
  ],
  TIMEOUT: [
    'Slurm killed the job when it reached its time limit.',
    'Raise time_limit (e.g. extra_slurm_opts={"time_limit": "04:00:00"}) within the partition’s MaxTime, or set signal_before_timeout (e.g. "USR1@300") so the job can checkpoint before the limit.',
  ],
  NODE_FAIL: [
    'A node allocated to the job failed while it ran; this is not caused by the job’s code.',
    'Re-run the job; if it recurs, exclude the node with extra_directives ["--exclude=<node>"] and tell the administrators.',
  ],
  PREEMPTED: [
    'A higher-priority job took the resources and this job was stopped.',
    'Re-run it, or use a QOS or partition that is not preemptible (qos / partition); make long jobs checkpoint (signal_before_timeout).',
  ],
  BOOT_FAIL: [
    'An allocated node failed to boot, so the job never started; this is not caused by the job’s code.',
    'Re-run the job; if it recurs, tell the cluster administrators.',
  ],
  DEADLINE: [
    'Slurm cancelled the job because it could not finish before its --deadline.',
    'Remove or extend the --deadline in extra_directives, or lower time_limit so the job fits.',
  ],
  OUT_OF_MEMORY: [
    'A process of the job used more memory than the job was allocated and was killed by the OOM killer.',
    'Raise mem (memory per node, e.g. "16G") or mem_per_cpu; the job’s MaxRSS (getJobMetrics) shows how much it used.',
  ],
  COMPLETING: ['The job has ended and Slurm is cleaning up its processes; the outcome follows shortly.'],
  CONFIGURING: ['Nodes are allocated and being booted or configured; the job starts next.'],
  STAGE_OUT: ['The job has ended and its burst-buffer data is being staged out.'],
  RESIZING: ['The job’s allocation is being resized.'],
  REQUEUED: ['The job is being put back into the queue (requeued) and will run again.'],
  REQUEUE_FED: ['A federation is requeuing the job on another cluster.'],
  REQUEUE_HOLD: [
    'The job was requeued and is held; it will not start by itself.',
    'Release it with `scontrol release <id>`, or cancel it.',
  ],
  SPECIAL_EXIT: [
    'The job ended with a special exit code and was requeued in a held state.',
    'Look at the job log, then `scontrol release <id>` to run it again, or cancel it.',
  ],
  STOPPED: [
    'The job received SIGSTOP; it keeps its allocation but does not run.',
    'Continue it with `scancel --signal=CONT <id>`, or cancel it.',
  ],
  REVOKED: [
    'A federated copy of the job started on another cluster, so this one was revoked.',
    'Follow the job on the cluster that runs it.',
  ],
  RESV_DEL_HOLD: [
    'The reservation the job was submitted to was deleted, so the job is held.',
    'Set another reservation (or none), then `scontrol release <id>`; or cancel and resubmit.',
  ],
  SIGNALING: ['A signal is being delivered to the job.'],
  UNKNOWN: [
    'Slurm reported a state this version of slurm-pipes does not know.',
    'Check `squeue -j <id>` or `sacct -j <id>` by hand, and report the state string.',
  ],
};

/**
 * Explains `state` in a sentence and, for failure and stuck states, suggests a fix, e.g.
 * `OUT_OF_MEMORY` → raise `mem` or `mem_per_cpu`; `TIMEOUT` → raise `time_limit` or set
 * `signal_before_timeout`.
 */
export function describeJobState(state: JobState): JobStateDescription {
  const [meaning, fix] = INFO[state] ?? INFO.UNKNOWN;
  return { state, meaning, fix };
}
