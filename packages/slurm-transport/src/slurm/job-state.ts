/**
 * A Slurm job state as `squeue --format=%T` and `sacct --format=State` print it, normalised by
 * {@link normalizeJobState}. Base states:
 * - `PENDING` (PD): queued, waiting for resources, priority, a dependency or a hold.
 * - `RUNNING` (R): allocated and running.
 * - `SUSPENDED` (S): allocated, but its processes are stopped (gang scheduling, preemption, admin).
 * - `COMPLETED` (CD): the batch script exited 0 on all nodes.
 * - `CANCELLED` (CA): cancelled by a user or admin (`scancel`); sacct prints `CANCELLED by <uid>`.
 * - `FAILED` (F): the batch script exited non-zero or a step failed to launch.
 * - `TIMEOUT` (TO): killed at the end of its time limit.
 * - `NODE_FAIL` (NF): killed because an allocated node failed.
 * - `PREEMPTED` (PR): stopped by preemption (requeued jobs go back to `PENDING`).
 * - `BOOT_FAIL` (BF): an allocated node failed to boot.
 * - `DEADLINE` (DL): cancelled because its `--deadline` passed.
 * - `OUT_OF_MEMORY` (OOM): a process exceeded the job's memory and was killed.
 *
 * Flag states, which `squeue` shows instead of the base state while they last:
 * - `COMPLETING` (CG): processes are being cleaned up; the outcome is not final yet.
 * - `CONFIGURING` (CF): nodes are allocated and booting or being configured.
 * - `STAGE_OUT` (SO): burst-buffer stage-out after the job ended.
 * - `RESIZING` (RS): the allocation size is being changed.
 * - `REQUEUED` (RQ): being put back into the queue.
 * - `REQUEUE_FED` (RF): requeued by a federation.
 * - `REQUEUE_HOLD` (RH): requeued and held (needs `scontrol release`).
 * - `SPECIAL_EXIT` (SE): requeued and held after a special exit code.
 * - `STOPPED` (ST): received SIGSTOP; the allocation is kept.
 * - `REVOKED` (RV): a federated sibling started elsewhere, so this copy was revoked.
 * - `RESV_DEL_HOLD` (RD): held because its reservation was deleted.
 * - `SIGNALING` (SI): a signal is being delivered.
 *
 * And `UNKNOWN`: a state string this package does not recognise (kept raw next to it).
 */
export type JobState =
  | 'PENDING'
  | 'RUNNING'
  | 'SUSPENDED'
  | 'COMPLETED'
  | 'CANCELLED'
  | 'FAILED'
  | 'TIMEOUT'
  | 'NODE_FAIL'
  | 'PREEMPTED'
  | 'BOOT_FAIL'
  | 'DEADLINE'
  | 'OUT_OF_MEMORY'
  | 'COMPLETING'
  | 'CONFIGURING'
  | 'STAGE_OUT'
  | 'RESIZING'
  | 'REQUEUED'
  | 'REQUEUE_FED'
  | 'REQUEUE_HOLD'
  | 'SPECIAL_EXIT'
  | 'STOPPED'
  | 'REVOKED'
  | 'RESV_DEL_HOLD'
  | 'SIGNALING'
  | 'UNKNOWN';

// Long name → squeue's compact code (Slurm's job_state_string_compact).
const COMPACT_CODES: Readonly<Record<Exclude<JobState, 'UNKNOWN'>, string>> = {
  PENDING: 'PD',
  RUNNING: 'R',
  SUSPENDED: 'S',
  COMPLETED: 'CD',
  CANCELLED: 'CA',
  FAILED: 'F',
  TIMEOUT: 'TO',
  NODE_FAIL: 'NF',
  PREEMPTED: 'PR',
  BOOT_FAIL: 'BF',
  DEADLINE: 'DL',
  OUT_OF_MEMORY: 'OOM',
  COMPLETING: 'CG',
  CONFIGURING: 'CF',
  STAGE_OUT: 'SO',
  RESIZING: 'RS',
  REQUEUED: 'RQ',
  REQUEUE_FED: 'RF',
  REQUEUE_HOLD: 'RH',
  SPECIAL_EXIT: 'SE',
  STOPPED: 'ST',
  REVOKED: 'RV',
  RESV_DEL_HOLD: 'RD',
  SIGNALING: 'SI',
};

/** Every {@link JobState}, `UNKNOWN` last. */
export const JOB_STATES: readonly JobState[] = Object.freeze([
  ...(Object.keys(COMPACT_CODES) as JobState[]),
  'UNKNOWN',
]);

const BY_NAME = new Map<string, JobState>(
  Object.entries(COMPACT_CODES).flatMap(([name, code]) => [
    [name, name as JobState],
    [code, name as JobState],
  ]),
);
// Older spellings and Slurm's internal name of COMPLETED.
BY_NAME.set('COMPLETE', 'COMPLETED');
BY_NAME.set('CANCELED', 'CANCELLED');
BY_NAME.set('OOM', 'OUT_OF_MEMORY');

// When a comma list (scontrol's `JobState=` or `--json`) holds flags, squeue shows the first of
// these that is set, else the base state (Slurm's job_state_string order).
const FLAG_PRECEDENCE: readonly JobState[] = [
  'COMPLETING',
  'STAGE_OUT',
  'CONFIGURING',
  'RESIZING',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'SPECIAL_EXIT',
  'STOPPED',
  'REVOKED',
  'RESV_DEL_HOLD',
  'SIGNALING',
];

const LONG_NAMES = Object.keys(COMPACT_CODES) as JobState[];

function normalizeOne(token: string): JobState | undefined {
  const exact = BY_NAME.get(token);
  if (exact !== undefined) {
    return exact;
  }
  // sacct with a column width marks cut-off values with `+` (`CANCELLED+`, `OUT_OF_ME+`).
  const stem = token.replace(/[+*]+$/, '');
  if (stem !== token && stem.length >= 2) {
    const candidates = LONG_NAMES.filter((name) => name.startsWith(stem));
    return candidates.length === 1 ? candidates[0] : undefined;
  }
  return undefined;
}

/**
 * Maps whatever Slurm printed for a job's state to a {@link JobState}: long names and compact
 * codes in any case (`RUNNING`, `r`, `OOM`), sacct's `CANCELLED by 1000`, width-truncated values
 * (`CANCELLED+`, `OUT_OF_ME+`) and comma lists of base state plus flags (`CANCELLED,COMPLETING`).
 * @returns `UNKNOWN` for anything else, including ambiguous truncations such as `COMPLET+`.
 */
export function normalizeJobState(raw: string): JobState {
  const tokens = raw
    .trim()
    .toUpperCase()
    .split(',')
    .map((part) => part.trim().split(/\s+/)[0] ?? '')
    .filter((part) => part !== '');
  const states = tokens.map(normalizeOne).filter((state): state is JobState => state !== undefined);
  if (states.length === 0) {
    return 'UNKNOWN';
  }
  return FLAG_PRECEDENCE.find((flag) => states.includes(flag)) ?? states[0] ?? 'UNKNOWN';
}

/** The compact code `squeue --format=%t` prints for `state` (`'PD'`, `'OOM'`), `'?'` for `UNKNOWN`. */
export function compactJobState(state: JobState): string {
  return state === 'UNKNOWN' ? '?' : COMPACT_CODES[state];
}

const TERMINAL: ReadonlySet<JobState> = new Set<JobState>([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'REVOKED',
]);

const QUEUED: ReadonlySet<JobState> = new Set<JobState>([
  'PENDING',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'SPECIAL_EXIT',
  'RESV_DEL_HOLD',
]);

/**
 * True when the job has ended for good and its state will not change again: `COMPLETED` and the
 * failure states (Slurm's IS_JOB_FINISHED, plus `REVOKED`). `COMPLETING`, `STAGE_OUT` and the held
 * states (`REQUEUE_HOLD`, `SPECIAL_EXIT`) are not terminal; `UNKNOWN` is not either.
 */
export function isTerminalJobState(state: JobState): boolean {
  return TERMINAL.has(state);
}

/** True only for `COMPLETED`: the batch script exited 0. */
export function isSuccessfulJobState(state: JobState): boolean {
  return state === 'COMPLETED';
}

/** True for terminal states other than `COMPLETED`. */
export function isFailedJobState(state: JobState): boolean {
  return TERMINAL.has(state) && state !== 'COMPLETED';
}

/**
 * Where a job is in its life:
 * - `queued`: waiting in the queue, including held and requeued jobs;
 * - `active`: holds an allocation (configuring, running, suspended, completing, staging out);
 * - `finished`: a terminal state ({@link isTerminalJobState});
 * - `unknown`: `UNKNOWN`.
 */
export type JobPhase = 'queued' | 'active' | 'finished' | 'unknown';

/** The {@link JobPhase} of `state`. */
export function jobPhase(state: JobState): JobPhase {
  if (state === 'UNKNOWN') return 'unknown';
  if (TERMINAL.has(state)) return 'finished';
  if (QUEUED.has(state)) return 'queued';
  return 'active';
}
