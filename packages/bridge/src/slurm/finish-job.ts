import type { PipesException } from '@slurm-pipes/pipes-protocol';
import {
  isTerminalJobState,
  type JobMetrics,
  type JobState,
  type RemoteTransport,
} from '@slurm-pipes/slurm-transport';
import type { FollowedJob } from './follow-job.js';
import { jobExitCode, jobFailureException } from './job-failure.js';
import { fetchFinalJobMetrics, isFinalRecord } from './job-metrics.js';
import type { JobOutputRelay } from './job-output-relay.js';
import type { JobTail } from './job-tail.js';
import { slurmMetadataEntries } from './metadata/slurm-metadata.js';
import { drainJobOutput } from './relay/drain-job-output.js';
import { runDirFullNote } from './run-dir-space.js';
import type { SubmittedStep } from './submit-step.js';

/** Options of {@link finishJob}. */
export interface FinishJobOptions {
  transport: RemoteTransport;
  step: SubmittedStep;
  followed: FollowedJob;
  tail: JobTail;
  relay: JobOutputRelay;
  log: (line: string) => void;
  /** How long the tail may take to reach the files' final sizes, in ms. @default 30000 */
  drainTimeoutMs?: number;
  /**
   * An accounting fetch started before the end was seen (when the payload sent `closed`); used
   * when it found the job's final record, else sacct is asked again. @default none
   */
  earlyMetrics?: Promise<JobMetrics | undefined> | undefined;
}

/** What {@link finishJob} settles. */
export interface FinishedJob {
  exitCode: number;
  exception: PipesException | null;
  state: JobState | undefined;
  metrics: JobMetrics | undefined;
}

const STDERR_TAIL_LINES = 30;

/**
 * Reads every byte the job wrote, each once: the tail follows the files to their final sizes
 * (reconnecting as needed); whatever it did not deliver is read in bounded ranges from its
 * offsets (see `drainJobOutput`). Returns false when bytes are missing.
 */
export async function drainJobFiles(
  options: Pick<FinishJobOptions, 'transport' | 'step' | 'tail' | 'log' | 'drainTimeoutMs'>,
  feed: (index: number, chunk: Buffer) => void,
): Promise<boolean> {
  const { transport, step, tail, log } = options;
  const paths = [step.files.messages, step.files.stdout, step.files.stderr];
  const drained = await drainJobOutput({
    executor: transport,
    paths,
    tail,
    feed,
    log,
    ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
  });
  return drained.complete;
}

// The early fetch's answer when it is the job's final record, else a fetch now.
async function finalMetrics(options: FinishJobOptions): Promise<JobMetrics | undefined> {
  const early = await options.earlyMetrics;
  if (early !== undefined && isFinalRecord(early)) return early;
  return fetchFinalJobMetrics(options.transport, options.step.jobId, { log: options.log });
}

/**
 * Settles a job the watcher saw end (or stopped following): drains its files, fetches its
 * accounting, releases the held materializations with the `slurm_*` metadata added, and decides
 * the step's exit code and exception.
 */
export async function finishJob(options: FinishJobOptions): Promise<FinishedJob> {
  const { step, followed, relay } = options;
  const final = followed.final;
  // The job's accounting is asked for while its last bytes are read: both wait on the cluster
  // (sacct on slurmdbd), and the step ends when the slower is done.
  const [complete, metrics] = await Promise.all([
    drainJobFiles(options, (index, chunk) =>
      index === 0 ? relay.messages(chunk) : index === 1 ? relay.stdout(chunk) : relay.stderr(chunk),
    ),
    final === undefined ? undefined : finalMetrics(options),
  ]);
  if (final === undefined) {
    relay.finish([]);
    const message = followed.limitReached
      ? `Slurm job ${step.jobId} reached the ${followed.limitReached} time limit set in slurm.${followed.limitReached}TimeoutSeconds; it keeps running (slurm.cancelOnTimeout is off) and a re-launch of this step reattaches to it. Its record is ${step.files.record}.`
      : followed.detached
        ? `slurm-pipes stopped following Slurm job ${step.jobId}, which keeps running; its record is ${step.files.record}.`
        : `Slurm job ${step.jobId} did not end after it was cancelled; check it with \`squeue -j ${step.jobId}\`. Its files are in ${step.layout.runDir}.`;
    return {
      exitCode: 130,
      exception: { message: `${message}\n`, stack: [], name: 'SlurmStepStopped', cause: null, context: null },
      state: undefined,
      metrics: undefined,
    };
  }
  const state = metrics !== undefined && isTerminalJobState(metrics.state) ? metrics.state : final.state;
  relay.finish(slurmMetadataEntries({ jobId: step.jobId, state, metrics, nodes: followed.nodes }));
  const outcome = {
    jobId: step.jobId,
    state,
    exitCode: metrics?.exitCode ?? final.status.exitCode,
    reason: final.reason ?? metrics?.reason,
    runDir: step.layout.runDir,
    stderrTail: relay.stderrTail(STDERR_TAIL_LINES),
    cancelledByBridge: followed.cancelled,
  };
  let exception =
    state === 'COMPLETED' ? relay.payloadException : jobFailureException(outcome, relay.payloadException);
  let exitCode = jobExitCode(outcome);
  // A full disk under the run directory explains a failure whose stderr could not even be written.
  if (exception !== null && !followed.cancelled) {
    const note = await runDirFullNote(options.transport, step.layout.runDir);
    if (note !== undefined) {
      options.log(note);
      exception = { ...exception, message: `${exception.message.replace(/\n?$/, '\n')}${note}\n` };
    }
  }
  // A job that completed but whose output could not be read to the end is no success: messages
  // Dagster never received would be silently lost.
  if (!complete && exception === null) {
    exitCode = 1;
    exception = {
      message: `slurm-pipes: Slurm job ${step.jobId} completed, but its output could not be read to the end (the login node stayed out of reach); some messages did not reach Dagster. Its files are in ${step.layout.runDir}.\n`,
      stack: [],
      name: 'SlurmRelayIncomplete',
      cause: null,
      context: null,
    };
  }
  return { exitCode, exception, state, metrics };
}
