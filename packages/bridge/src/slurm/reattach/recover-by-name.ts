import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { BridgeError } from '../../errors.js';
import { remoteFileSizes } from '../remote-files.js';
import type { RunDirFiles } from '../submit-step.js';
import { findJobByName } from './find-job-by-name.js';
import { type StepJobRecord, writeJobRecord } from './job-record.js';

/** Where the launch that died left its traces. */
export interface DiedLaunch {
  /** The unique job name from its `submit.json`. */
  jobName: string;
  runDir: string;
  files: Pick<RunDirFiles, 'messages' | 'stdout' | 'stderr' | 'record' | 'intent'>;
  signal?: AbortSignal | undefined;
  log: (line: string) => void;
}

/**
 * A launch wrote `submit.json` and died: finds its job by name and, found, writes its missing
 * `job.json` (built by `recordFor`, marked `recoveredByName`). Not found, that launch died before
 * `sbatch` — unless the run directory shows that a job ran, which Slurm forgot (no accounting):
 * then it refuses, rather than run the step twice. Call it holding the step's lock.
 * @returns the job's record, or undefined when nothing was submitted and the caller may submit.
 * @throws {BridgeError} `ERR_BRIDGE_RELAY` when Slurm cannot be asked, or forgot a job that ran.
 */
export async function recoverJobByName(
  executor: RemoteExecutor,
  launch: DiedLaunch,
  recordFor: (jobId: string) => StepJobRecord,
): Promise<StepJobRecord | undefined> {
  const { jobName, files, signal, log } = launch;
  const jobId = await findJobByName(executor, jobName, { signal });
  if (jobId !== undefined) {
    const record: StepJobRecord = { ...recordFor(jobId), recoveredByName: true };
    await writeJobRecord(executor, files.record, record);
    return record;
  }
  const sizes = await remoteFileSizes(executor, [files.messages, files.stdout, files.stderr], { signal });
  if (sizes.some((size) => size > 0)) {
    throw new BridgeError(
      'ERR_BRIDGE_RELAY',
      `An earlier launch of this step submitted a job named ${jobName} (it wrote to ${launch.runDir}), but neither squeue nor sacct knows it any more, so its end cannot be collected. Nothing was submitted, so the step does not run twice. To run it again, remove ${files.intent} and launch the step again.`,
    );
  }
  log(
    `an earlier launch of this step stopped before Slurm accepted its job (${jobName} is unknown to Slurm); submitting`,
  );
  return undefined;
}

/** The error of a launch that finds records it cannot read: it refuses to submit. */
export function unreadableRecordsError(
  files: Pick<RunDirFiles, 'record' | 'intent'>,
  why: string,
): BridgeError {
  return new BridgeError(
    'ERR_BRIDGE_RELAY',
    `The records of an earlier launch of this step cannot be read (${why}). Nothing was submitted, so the step does not run twice. Check squeue/sacct for its job; to submit anyway, remove ${files.record} and ${files.intent}.`,
  );
}
