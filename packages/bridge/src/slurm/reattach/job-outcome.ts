import type { PipesException } from '@slurm-pipes/pipes-protocol';
import type { RemoteExecutor } from '@slurm-pipes/slurm-transport';
import type { FollowedJob } from '../follow-job.js';
import { type StepJobRecord, withCollected, withDetach, writeJobRecord } from './job-record.js';

/** What following a job came to, for its record: relayed to its end, or left running. */
export type RecordedOutcome =
  | { kind: 'collected'; state: string | undefined }
  | { kind: 'detached'; reason: string }
  /** Neither: the bridge lost track of the job, or it did not end after scancel. The record stays as it was. */
  | { kind: 'unsettled' };

/** Why the bridge left a job running: `SIGTERM`, `queue limit`, `run limit` (I/O-free). */
export function detachReason(followed: Pick<FollowedJob, 'limitReached'>, abortReason: unknown): string {
  if (followed.limitReached !== undefined) return `${followed.limitReached} limit`;
  const signal = (abortReason as { signal?: unknown } | null | undefined)?.signal;
  return typeof signal === 'string' ? signal : 'stopped';
}

/** Classifies how following ended (I/O-free). */
export function recordedOutcome(
  followed: Pick<FollowedJob, 'final' | 'detached' | 'limitReached'>,
  state: string | undefined,
  abortReason: unknown,
): RecordedOutcome {
  if (followed.final !== undefined) return { kind: 'collected', state };
  if (followed.detached) return { kind: 'detached', reason: detachReason(followed, abortReason) };
  return { kind: 'unsettled' };
}

/**
 * The exception closing the Pipes channel when the bridge was stopped for a restart (SIGTERM)
 * and left the job running: it says so, and that a re-launch reattaches.
 */
export function detachException(jobId: string, reason: string, recordPath: string): PipesException {
  const why =
    reason === 'SIGTERM'
      ? 'slurm-pipes received SIGTERM (Dagster or its process supervisor is stopping, e.g. for a restart or deploy; Terminate sends SIGINT)'
      : `slurm-pipes stopped following it (${reason})`;
  const message = `Slurm job ${jobId} keeps running: ${why}, so the job was not cancelled. A re-launch of this step (a Dagster retry, or a re-execution of this run) reattaches to it, relays all its messages from the start and collects its result; it is never submitted again. To stop it instead: scancel ${jobId}. Its record is ${recordPath}.\n`;
  return { message, stack: [], name: 'SlurmJobDetached', cause: null, context: null };
}

/**
 * Writes the outcome into `job.json`: `collected` (a later launch submits anew), or one more
 * `detached` event (a later launch reattaches). Failures are logged: at worst a later launch
 * relays a collected job once more.
 */
export async function recordJobOutcome(
  executor: RemoteExecutor,
  recordPath: string,
  record: StepJobRecord,
  outcome: RecordedOutcome,
  runId: string,
  log: (line: string) => void,
): Promise<StepJobRecord> {
  if (outcome.kind === 'unsettled') return record;
  const next =
    outcome.kind === 'collected'
      ? withCollected(record, outcome.state, runId)
      : withDetach(record, outcome.reason);
  try {
    await writeJobRecord(executor, recordPath, next);
    if (outcome.kind === 'detached')
      log(`left Slurm job ${record.jobId} running (${outcome.reason}); recorded in ${recordPath}`);
  } catch (error) {
    log(`could not update ${recordPath}: ${(error as Error).message}`);
  }
  return next;
}
