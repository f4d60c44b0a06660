import type { PipesException } from '@slurm-pipes/pipes-protocol';
import { describeJobState, type JobExitCode, type JobState } from '@slurm-pipes/slurm-transport';

/** How a job ended, as far as the bridge knows. */
export interface JobOutcome {
  jobId: string;
  state: JobState;
  exitCode: JobExitCode | undefined;
  /** Slurm's reason (`NonZeroExitCode`, `TimeLimit`, `OutOfMemory`…), if any. */
  reason: string | undefined;
  /** The step's run directory on the cluster, where stdout, stderr and messages.jsonl stay. */
  runDir: string;
  /** The last lines of the job's stderr. */
  stderrTail: readonly string[];
  /** True when slurm-pipes cancelled the job because the step was terminated. */
  cancelledByBridge: boolean;
}

/** `exit 1`, `signal 9`, or `unknown exit code`. */
export function describeExitCode(exitCode: JobExitCode | undefined): string {
  if (exitCode === undefined) return 'unknown exit code';
  return exitCode.signal === 0
    ? `exit code ${exitCode.code}`
    : `exit code ${exitCode.code}, signal ${exitCode.signal}`;
}

/**
 * The bridge's exit code for a finished job: 0 for `COMPLETED`; otherwise the batch script's
 * code, 128+signal when a signal ended it (like a shell), 130 when slurm-pipes cancelled it
 * (a terminated step), else 1.
 */
export function jobExitCode(outcome: Pick<JobOutcome, 'state' | 'exitCode' | 'cancelledByBridge'>): number {
  if (outcome.state === 'COMPLETED') return 0;
  if (outcome.cancelledByBridge) return 130;
  const { code = 0, signal = 0 } = outcome.exitCode ?? {};
  if (code > 0) return code;
  if (signal > 0) return 128 + signal;
  return 1;
}

// What slurmstepd writes to the job's stderr when JobAcctGatherParams=OverMemoryKill kills it
// (clusters without cgroups). Slurm then records the job FAILED, not OUT_OF_MEMORY.
const MEMORY_LIMIT_KILL =
  /^slurmstepd(?:-\S+)?: error: (?:Exceeded job memory limit|\S+ exceeded memory limit)/;

/**
 * The state that explains the outcome: `OUT_OF_MEMORY` for a job Slurm recorded otherwise
 * (`FAILED`, `CANCELLED`) when slurmstepd's "Exceeded job memory limit" ends its stderr, as on
 * clusters that enforce memory by polling (OverMemoryKill) rather than with cgroups; else the
 * recorded state.
 */
export function explainedJobState(
  outcome: Pick<JobOutcome, 'state' | 'stderrTail' | 'cancelledByBridge'>,
): JobState {
  if (outcome.state === 'COMPLETED' || outcome.cancelledByBridge) return outcome.state;
  return outcome.stderrTail.some((line) => MEMORY_LIMIT_KILL.test(line)) ? 'OUT_OF_MEMORY' : outcome.state;
}

/**
 * The exception reported for a job that did not complete: the state, exit code and reason, what
 * the state means and how to fix it (from the slurm layer's explanations), where the files are,
 * and the end of the job's stderr. The payload's own exception, if it sent one, is the cause.
 */
export function jobFailureException(
  outcome: JobOutcome,
  payloadException: PipesException | null,
): PipesException {
  const explained = explainedJobState(outcome);
  const { meaning, fix } = describeJobState(explained);
  const reason = outcome.reason === undefined ? '' : `, reason ${outcome.reason}`;
  const killedForMemory =
    explained === outcome.state
      ? []
      : [
          `slurmstepd killed it for exceeding its memory limit (see stderr below), so this is ${explained}: Slurm records ${outcome.state} where memory is enforced by polling rather than cgroups.`,
        ];
  const lines = outcome.cancelledByBridge
    ? [
        `Slurm job ${outcome.jobId} was cancelled by slurm-pipes because the step was terminated; it ended ${outcome.state} (${describeExitCode(outcome.exitCode)}${reason}).`,
      ]
    : [
        `Slurm job ${outcome.jobId} ended ${outcome.state} (${describeExitCode(outcome.exitCode)}${reason}).`,
        ...killedForMemory,
        meaning,
        ...(fix === undefined ? [] : [`Fix: ${fix.replaceAll('<id>', outcome.jobId)}`]),
      ];
  lines.push(`Run directory on the cluster: ${outcome.runDir} (job.sh, stdout, stderr, messages.jsonl).`);
  if (outcome.stderrTail.length > 0) {
    lines.push(`Last ${outcome.stderrTail.length} line(s) of the job's stderr:`);
    lines.push(...outcome.stderrTail.map((line) => `  | ${line}`));
  } else {
    lines.push("The job's stderr is empty.");
  }
  return {
    message: `${lines.join('\n')}\n`,
    stack: [],
    name: outcome.cancelledByBridge ? 'SlurmJobCancelled' : 'SlurmJobFailed',
    cause: payloadException,
    context: null,
  };
}
