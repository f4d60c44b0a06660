import { SlurmTransportError } from '../errors.js';
import { formatSlurmDuration } from './duration.js';
import type { JobStatus } from './squeue.js';

/** Which wait limit of a job watch ran out. */
export type JobWaitLimit = 'queue' | 'run';

const WAIT_TIMEOUT_CODE = 'ERR_SLURM_WAIT_TIMEOUT';

/**
 * Thrown by a job watch when a job waited in the queue longer than `queueTimeoutMs`, or ran longer
 * than `runTimeoutMs`. Nothing was cancelled: the job is still in Slurm, and the caller decides
 * whether to `cancelJob` it or keep waiting (watch it again). `code` is `ERR_SLURM_WAIT_TIMEOUT`.
 */
export class JobWaitTimeoutError extends SlurmTransportError {
  readonly jobId: string;
  readonly limit: JobWaitLimit;
  /** The limit that ran out, in milliseconds. */
  readonly limitMs: number;
  /** The job's last known status (`undefined` if it was never seen). */
  readonly lastStatus: JobStatus | undefined;

  constructor(jobId: string, limit: JobWaitLimit, limitMs: number, lastStatus: JobStatus | undefined) {
    const waited = formatSlurmDuration(limitMs / 1000);
    const state =
      lastStatus === undefined
        ? 'not seen yet'
        : lastStatus.state + (lastStatus.reason ? ` (${lastStatus.reason})` : '');
    const message =
      limit === 'queue'
        ? `Job ${jobId} is still queued after ${waited} (queueTimeoutMs=${limitMs}; state: ${state}). It was not cancelled. Fix: cancel it (cancelJob) or keep waiting (watch it again); to start sooner ask for fewer resources, a shorter time_limit, or another partition/qos.`
        : `Job ${jobId} has been running for more than ${waited} (runTimeoutMs=${limitMs}; state: ${state}). It was not cancelled. Fix: cancel it (cancelJob) or keep waiting (watch it again); Slurm itself ends it at its time_limit.`;
    super(WAIT_TIMEOUT_CODE, message);
    this.jobId = jobId;
    this.limit = limit;
    this.limitMs = limitMs;
    this.lastStatus = lastStatus;
  }
}
