export { formatSlurmDuration, parseSlurmDuration, parseTimeLimit } from './duration.js';
export { type JobExitCode, parseExitCode } from './exit-code.js';
export { checkJobId } from './job-id.js';
export { JOB_OVERRIDE_KEYS, type SlurmJobOverrides, validateSlurmJobOverrides } from './job-overrides.js';
export { resolveSlurmJobResources, SLURM_QUEUE_DEFAULTS, type SlurmJobResources } from './job-resources.js';
export {
  compactJobState,
  isFailedJobState,
  isSuccessfulJobState,
  isTerminalJobState,
  JOB_STATES,
  type JobPhase,
  type JobState,
  jobPhase,
  normalizeJobState,
} from './job-state.js';
export { describeJobState, type JobStateDescription } from './job-state-info.js';
export type { JobStateChange } from './job-subscription.js';
export { type JobWaitLimit, JobWaitTimeoutError } from './job-wait-timeout-error.js';
export { JobWatcher, type JobWatcherOptions, type WatchJobsOptions, watchJobs } from './job-watcher.js';
export { parseMemoryRequest, parseSacctSize } from './memory-size.js';
export type { SignalBeforeTimeout } from './option-checks.js';
export { describePendingReason, type PendingReasonDescription } from './pending-reason.js';
export { QUEUE_CONFIG_KEYS, type SlurmQueueConfig, validateSlurmQueueConfig } from './queue-config.js';
export {
  buildSacctMetricsArgv,
  getJobMetrics,
  type JobMetrics,
  type JobStepMetrics,
  parseSacctMetrics,
  SACCT_METRICS_FORMAT,
} from './sacct.js';
export {
  buildSbatchArgv,
  type ParsedSbatchOutput,
  parseSbatchOutput,
  type SbatchSpec,
  type SubmitJobOptions,
  submitJob,
} from './sbatch.js';
export {
  buildScancelArgv,
  type CancelJobOptions,
  type CancelOutcome,
  cancelJob,
  type ScancelSignal,
} from './scancel.js';
export type { SlurmCommandOptions } from './slurm-command.js';
export {
  buildSacctStatesArgv,
  buildSqueueArgv,
  formatJobStatus,
  type JobStatus,
  parseSacctStates,
  parseSqueueOutput,
  type QueryJobStatesOptions,
  queryJobStates,
  SACCT_STATE_FORMAT,
  SQUEUE_FORMAT,
} from './squeue.js';
