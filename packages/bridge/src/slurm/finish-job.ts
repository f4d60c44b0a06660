import type { PipesException } from '@slurm-pipes/pipes-protocol';
import {
  isTerminalJobState,
  type JobMetrics,
  type JobState,
  type RemoteTransport,
} from '@slurm-pipes/slurm-transport';
import type { FollowedJob } from './follow-job.js';
import { jobExitCode, jobFailureException } from './job-failure.js';
import { fetchFinalJobMetrics } from './job-metrics.js';
import type { JobOutputRelay } from './job-output-relay.js';
import type { JobTail } from './job-tail.js';
import { slurmMetadataEntries } from './metadata/slurm-metadata.js';
import { remoteFileSizes } from './remote-files.js';
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
 * Reads every byte the job wrote: the tail follows the files to their final sizes; whatever it
 * did not deliver (it failed, or took too long) is read once with SFTP from its offset, so each
 * message is still relayed exactly once.
 */
export async function drainJobFiles(
  options: Pick<FinishJobOptions, 'transport' | 'step' | 'tail' | 'log' | 'drainTimeoutMs'>,
  feed: (index: number, chunk: Buffer) => void,
): Promise<void> {
  const { transport, step, tail, log } = options;
  const paths = [step.files.messages, step.files.stdout, step.files.stderr];
  const sizes = await remoteFileSizes(transport, paths, { timeoutMs: 60_000 }).catch((error: unknown) => {
    log(`could not read the final sizes of the job's files: ${(error as Error).message}`);
    return undefined;
  });
  if (sizes !== undefined) await tail.drain(sizes, options.drainTimeoutMs ?? 30_000);
  await tail.stop();
  if (sizes === undefined) return;
  for (const [index, path] of paths.entries()) {
    const offset = tail.offsets[index] ?? 0;
    if (offset >= (sizes[index] ?? 0)) continue;
    log(`reading the rest of ${path} from byte ${offset}`);
    try {
      const rest = (await transport.readFile(path)).subarray(offset);
      if (rest.length > 0) feed(index, rest);
    } catch (error) {
      log(`could not read ${path}: ${(error as Error).message}`);
    }
  }
}

/**
 * Settles a job the watcher saw end (or stopped following): drains its files, fetches its
 * accounting, releases the held materializations with the `slurm_*` metadata added, and decides
 * the step's exit code and exception.
 */
export async function finishJob(options: FinishJobOptions): Promise<FinishedJob> {
  const { transport, step, followed, relay, log } = options;
  await drainJobFiles(options, (index, chunk) =>
    index === 0 ? relay.messages(chunk) : index === 1 ? relay.stdout(chunk) : relay.stderr(chunk),
  );
  const final = followed.final;
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
  const metrics = await fetchFinalJobMetrics(transport, step.jobId, { log });
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
  const exception =
    state === 'COMPLETED' ? relay.payloadException : jobFailureException(outcome, relay.payloadException);
  return { exitCode: jobExitCode(outcome), exception, state, metrics };
}
