import * as z from 'zod';
import { SlurmTransportError } from '../errors.js';
import type { RemoteExecutor } from '../ssh/remote-executor.js';
import { type JobExitCode, parseExitCode } from './exit-code.js';
import { checkJobIds } from './job-id.js';
import { isTerminalJobState, type JobState, normalizeJobState } from './job-state.js';
import { commandError, findHint, runSlurmCommand, type SlurmCommandOptions } from './slurm-command.js';

/** A job's state as `squeue` (or, for jobs it forgot, `sacct`) reports it. */
export interface JobStatus {
  readonly jobId: string;
  /** Normalised state. */
  readonly state: JobState;
  /** The state exactly as Slurm printed it (e.g. `CANCELLED by 1000`). */
  readonly rawState: string;
  /** Why the job is pending or how it ended (`Resources`, `Priority`, `NonZeroExitCode`); `undefined` for `None`. */
  readonly reason: string | undefined;
  /** The allocated nodes (`n[1-2]`); `undefined` while pending. */
  readonly nodes: string | undefined;
  /** Exit code, from sacct, once the job is terminal and accounting knows it. */
  readonly exitCode?: JobExitCode;
  /** Which command reported the state. */
  readonly source: 'squeue' | 'sacct';
}

/** The fields `squeue --format` prints, in order: job id, long state, reason, node list. */
export const SQUEUE_FORMAT = '%i|%T|%r|%N';
/** The fields asked of `sacct --format` for states, in order. */
export const SACCT_STATE_FORMAT = 'JobID,State,ExitCode,Reason,NodeList';

// `123`, `123_4` / `123_[1-3]` (array), `123+1` (heterogeneous component).
const JobIdText = z
  .string()
  .regex(/^\d+(?:_(?:\d+|\[[^\]]*\]))?(?:\+\d+)?$/, 'expected a job id such as 123');
const State = z.string().trim().min(1, 'expected a job state');

/** One line of `squeue --format=%i|%T|%r|%N`, split on `|`. */
export const SqueueRow = z.tuple([JobIdText, State, z.string(), z.string()]);
/** One line of `sacct --parsable2 --format=JobID,State,ExitCode,Reason,NodeList`. */
export const SacctStateRow = z.tuple([z.string().min(1), State, z.string(), z.string(), z.string()]);

const absent = (value: string, ...none: string[]) => {
  const trimmed = value.trim();
  return trimmed === '' || none.includes(trimmed) ? undefined : trimmed;
};

/** Splits `stdout` into lines of `|`-separated fields and validates each with `schema`. */
export function parseDelimitedRows<T>(command: string, stdout: string, schema: z.ZodType<T>): T[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const parsed = schema.safeParse(line.replace(/\r$/, '').split('|'));
      if (!parsed.success) {
        throw new SlurmTransportError(
          'ERR_SLURM_QUERY',
          `Could not parse line ${index + 1} of ${command} output ${JSON.stringify(line.slice(0, 200))}:\n${z.prettifyError(parsed.error)}\nFix: this Slurm version prints a format slurm-pipes does not expect; report it with the line above.`,
          { cause: parsed.error, stdout },
        );
      }
      return parsed.data;
    });
}

/** Parses `squeue --noheader --format=%i|%T|%r|%N` output. */
export function parseSqueueOutput(stdout: string): JobStatus[] {
  return parseDelimitedRows('squeue', stdout, SqueueRow).map(([jobId, rawState, reason, nodes]) => ({
    jobId,
    state: normalizeJobState(rawState),
    rawState,
    reason: absent(reason, 'None', '(null)'),
    nodes: absent(nodes, 'None assigned', '(null)'),
    source: 'squeue' as const,
  }));
}

/** Parses `sacct --noheader --parsable2 --allocations --format=JobID,State,ExitCode,Reason,NodeList`. */
export function parseSacctStates(stdout: string): JobStatus[] {
  return parseDelimitedRows('sacct', stdout, SacctStateRow)
    .filter(([jobId]) => !jobId.includes('.'))
    .map(([jobId, rawState, exitCode, reason, nodes]) => {
      const parsedExit = parseExitCode(exitCode);
      return {
        jobId,
        state: normalizeJobState(rawState),
        rawState,
        reason: absent(reason, 'None', '(null)'),
        nodes: absent(nodes, 'None assigned', '(null)'),
        ...(parsedExit === undefined ? {} : { exitCode: parsedExit }),
        source: 'sacct' as const,
      };
    });
}

/** `squeue` argv for `jobIds`; `--states=all` keeps finished jobs slurmctld still remembers. */
export function buildSqueueArgv(jobIds: readonly string[]): string[] {
  return ['squeue', `--jobs=${jobIds.join(',')}`, '--states=all', '--noheader', `--format=${SQUEUE_FORMAT}`];
}

/** `sacct` argv asking the state of `jobIds` (allocations only, no steps). */
export function buildSacctStatesArgv(jobIds: readonly string[]): string[] {
  return [
    'sacct',
    `--jobs=${jobIds.join(',')}`,
    '--allocations',
    '--noheader',
    '--parsable2',
    `--format=${SACCT_STATE_FORMAT}`,
  ];
}

/** sacct's answer when slurmdbd is not configured: not an error for state queries. */
export const ACCOUNTING_DISABLED = /accounting storage is disabled/i;

const SACCT_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /Problem talking to the database|slurmdbd|Connection refused/i,
    'slurmdbd (accounting) is not reachable. Retry later; `sacctmgr ping` shows whether it answers.',
  ],
];

/** Options of {@link queryJobStates}. */
export interface QueryJobStatesOptions extends SlurmCommandOptions {
  /**
   * Ask sacct for the exit codes of jobs squeue reports ended. Off when the caller fetches the
   * job's accounting anyway (it has the exit code): sacct waits on slurmdbd, typically 50-100 ms
   * and more on a busy cluster, and would sit between the job's end and the step's.
   * @default true
   */
  exitCodes?: boolean | undefined;
}

/**
 * Asks Slurm for the state of many jobs at once: one `squeue` for all of them, then, only if
 * needed, one `sacct` for the jobs squeue no longer knows (purged after MinJobAge) and for the
 * finished ones (to get their exit codes).
 *
 * @returns a map from job id to status; a job neither command knows is missing from it (a wrong id,
 *   or a finished job when accounting is disabled or lagging).
 * @throws {TypeError} for an id that is not a Slurm job id.
 * @throws {SlurmTransportError} `ERR_SLURM_QUERY` when squeue or sacct fails (except sacct's
 *   "accounting storage is disabled", which only means fewer answers) or prints unparsable
 *   output; `ERR_ABORTED`, `ERR_SSH_*` from the executor.
 */
export async function queryJobStates(
  executor: RemoteExecutor,
  jobIds: readonly string[],
  options: QueryJobStatesOptions = {},
): Promise<Map<string, JobStatus>> {
  const ids = checkJobIds(jobIds);
  const statuses = new Map<string, JobStatus>();
  if (ids.length === 0) {
    return statuses;
  }
  const squeueArgv = buildSqueueArgv(ids);
  const squeue = await runSlurmCommand(executor, squeueArgv, options);
  // With a single unknown id squeue fails instead of printing nothing.
  if (squeue.exitCode !== 0 && !/Invalid job id specified/i.test(squeue.stderr)) {
    throw commandError(
      'ERR_SLURM_QUERY',
      `squeue could not list jobs ${ids.join(',')}`,
      squeueArgv,
      squeue,
      findHint(squeue.stderr),
    );
  }
  const wanted = new Set(ids);
  for (const status of squeue.exitCode === 0 ? parseSqueueOutput(squeue.stdout) : []) {
    if (wanted.has(status.jobId)) statuses.set(status.jobId, status);
  }

  const exitCodes = options.exitCodes ?? true;
  const askSacct = ids.filter((id) => {
    const status = statuses.get(id);
    return status === undefined || (exitCodes && isTerminalJobState(status.state));
  });
  if (askSacct.length === 0) {
    return statuses;
  }
  const sacctArgv = buildSacctStatesArgv(askSacct);
  const sacct = await runSlurmCommand(executor, sacctArgv, options);
  if (sacct.exitCode !== 0) {
    if (ACCOUNTING_DISABLED.test(sacct.stderr) || ACCOUNTING_DISABLED.test(sacct.stdout)) {
      return statuses;
    }
    throw commandError(
      'ERR_SLURM_QUERY',
      `sacct could not report jobs ${askSacct.join(',')}`,
      sacctArgv,
      sacct,
      findHint(sacct.stderr, SACCT_HINTS),
    );
  }
  if (ACCOUNTING_DISABLED.test(sacct.stdout)) {
    return statuses;
  }
  for (const row of parseSacctStates(sacct.stdout)) {
    if (!wanted.has(row.jobId)) continue;
    const known = statuses.get(row.jobId);
    if (known === undefined) {
      statuses.set(row.jobId, row);
    } else if (row.exitCode !== undefined && isTerminalJobState(row.state)) {
      // squeue stays authoritative for the state; sacct only adds the exit code.
      statuses.set(row.jobId, { ...known, exitCode: row.exitCode });
    }
  }
  return statuses;
}

/** `"PENDING (Resources)"`, `"RUNNING on n[1-2]"`, `"FAILED (NonZeroExitCode), exit 1"`: a status for humans. */
export function formatJobStatus(status: JobStatus): string {
  let text: string = status.state;
  if (status.reason !== undefined) text += ` (${status.reason})`;
  if (status.nodes !== undefined && !isTerminalJobState(status.state) && status.state !== 'PENDING') {
    text += ` on ${status.nodes}`;
  }
  if (status.exitCode !== undefined && isTerminalJobState(status.state)) {
    const { code, signal } = status.exitCode;
    text += signal === 0 ? `, exit ${code}` : `, signal ${signal}`;
  }
  return text;
}
