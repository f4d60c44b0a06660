import * as z from 'zod';
import { SlurmTransportError } from '../errors.js';
import type { RemoteExecutor } from '../ssh/remote-executor.js';
import { shellJoin } from '../ssh/shell-quote.js';
import { parseSlurmDuration } from './duration.js';
import { type JobExitCode, parseExitCode } from './exit-code.js';
import { checkJobId } from './job-id.js';
import { type JobState, normalizeJobState } from './job-state.js';
import { parseSacctSize } from './memory-size.js';
import { commandError, findHint, runSlurmCommand, type SlurmCommandOptions } from './slurm-command.js';
import { ACCOUNTING_DISABLED, parseDelimitedRows } from './squeue.js';

/** Accounting of one step of a job (`batch`, `extern`, `0`, `1`, …). */
export interface JobStepMetrics {
  /** The part after the job id: `batch`, `extern`, `0`. */
  readonly stepId: string;
  readonly state: JobState;
  readonly exitCode: JobExitCode | undefined;
  readonly elapsedSeconds: number | undefined;
  /** User plus system CPU time of the step. */
  readonly totalCpuSeconds: number | undefined;
  /** Peak resident memory of the step's largest task; `undefined` when not gathered. */
  readonly maxRssBytes: number | undefined;
  readonly nodeList: string | undefined;
}

/** What accounting knows about a job once it ran (or while it runs). */
export interface JobMetrics {
  readonly jobId: string;
  readonly state: JobState;
  /** The state exactly as sacct printed it (e.g. `CANCELLED by 1000`). */
  readonly rawState: string;
  /** The batch script's exit code and signal (`"0:0"` → `{code: 0, signal: 0}`). */
  readonly exitCode: JobExitCode | undefined;
  /** Wall time used so far (or in total), in seconds. */
  readonly elapsedSeconds: number | undefined;
  /** Start time as sacct prints it (`2024-05-01T10:00:00`, cluster-local, no zone); `undefined` before start. */
  readonly startTime: string | undefined;
  /** End time as sacct prints it; `undefined` while running. */
  readonly endTime: string | undefined;
  /** Allocated nodes (`n[1-2]`); `undefined` before allocation. */
  readonly nodeList: string | undefined;
  /** Number of allocated nodes. */
  readonly nodes: number | undefined;
  /** Number of allocated CPUs. */
  readonly allocCpus: number | undefined;
  /** CPU time (user + system) of all steps. */
  readonly totalCpuSeconds: number | undefined;
  /** The largest MaxRSS over all steps (batch, extern and srun steps), in bytes. */
  readonly maxRssBytes: number | undefined;
  /**
   * TotalCPU / (Elapsed × AllocCPUS), between 0 and 1 (capped at 1 against rounding);
   * `undefined` when any input is missing or zero.
   */
  readonly cpuEfficiency: number | undefined;
  /** Why the job is pending or how it ended; `undefined` for `None`. */
  readonly reason: string | undefined;
  /** Every step accounting has a row for. */
  readonly steps: readonly JobStepMetrics[];
}

/** The fields asked of `sacct --format` for metrics, in order. */
export const SACCT_METRICS_FORMAT =
  'JobID,State,ExitCode,Elapsed,TotalCPU,Start,End,NodeList,NNodes,AllocCPUS,MaxRSS,Reason';

/** One line of `sacct --parsable2 --format=<SACCT_METRICS_FORMAT>`, split on `|`. */
const text = z.string();
export const SacctMetricsRow = z
  .tuple([
    z.string().regex(/^\d+(?:_\d+)?(?:\+\d+)?(?:\.[\w-]+)?$/, 'expected a job or step id such as 123.batch'),
    z.string().trim().min(1, 'expected a job state'),
    text,
    text,
    text,
    text,
    text,
    text,
    text,
    text,
    text,
    text,
  ])
  .transform(
    ([id, state, exitCode, elapsed, totalCpu, start, end, nodeList, nodes, allocCpus, maxRss, reason]) => ({
      id,
      state,
      exitCode,
      elapsed,
      totalCpu,
      start,
      end,
      nodeList,
      nodes,
      allocCpus,
      maxRss,
      reason,
    }),
  );

const absent = (value: string) => {
  const trimmed = value.trim();
  return trimmed === '' || ['Unknown', 'None', 'None assigned', '(null)'].includes(trimmed)
    ? undefined
    : trimmed;
};
const count = (value: string) => (/^\d+$/.test(value.trim()) ? Number(value) : undefined);

/**
 * Parses the rows sacct printed for `jobId` (the allocation row `123` and its steps `123.batch`,
 * `123.extern`, `123.0`). Empty, `Unknown` and `None` fields become `undefined`.
 * @returns `undefined` when there is no allocation row for `jobId`.
 * @throws {SlurmTransportError} `ERR_SLURM_QUERY` for a line that does not have the expected fields.
 */
export function parseSacctMetrics(jobId: string, stdout: string): JobMetrics | undefined {
  const rows = parseDelimitedRows('sacct', stdout, SacctMetricsRow);
  const job = rows.findLast((row) => row.id === jobId);
  if (job === undefined) {
    return undefined;
  }
  const steps: JobStepMetrics[] = rows
    .filter((row) => row.id.startsWith(`${jobId}.`))
    .map((row) => ({
      stepId: row.id.slice(jobId.length + 1),
      state: normalizeJobState(row.state),
      exitCode: parseExitCode(row.exitCode),
      elapsedSeconds: parseSlurmDuration(row.elapsed),
      totalCpuSeconds: parseSlurmDuration(row.totalCpu),
      maxRssBytes: parseSacctSize(row.maxRss),
      nodeList: absent(row.nodeList),
    }));

  const rssValues = [parseSacctSize(job.maxRss), ...steps.map((step) => step.maxRssBytes)].filter(
    (value): value is number => value !== undefined,
  );
  const stepCpu = steps
    .map((step) => step.totalCpuSeconds)
    .filter((value): value is number => value !== undefined);
  // The allocation row already sums its steps; add them up ourselves only when it has no value.
  const totalCpuSeconds =
    parseSlurmDuration(job.totalCpu) ??
    (stepCpu.length > 0 ? stepCpu.reduce((sum, value) => sum + value, 0) : undefined);
  const elapsedSeconds = parseSlurmDuration(job.elapsed);
  const allocCpus = count(job.allocCpus);
  const cpuEfficiency =
    totalCpuSeconds !== undefined && elapsedSeconds && allocCpus
      ? Math.min(1, totalCpuSeconds / (elapsedSeconds * allocCpus))
      : undefined;

  return {
    jobId,
    state: normalizeJobState(job.state),
    rawState: job.state,
    exitCode: parseExitCode(job.exitCode),
    elapsedSeconds,
    startTime: absent(job.start),
    endTime: absent(job.end),
    nodeList: absent(job.nodeList),
    nodes: count(job.nodes),
    allocCpus,
    totalCpuSeconds,
    maxRssBytes: rssValues.length > 0 ? Math.max(...rssValues) : undefined,
    cpuEfficiency,
    reason: absent(job.reason),
    steps,
  };
}

/** `sacct` argv for the metrics of `jobId`, steps included. */
export function buildSacctMetricsArgv(jobId: string): string[] {
  return ['sacct', `--jobs=${jobId}`, '--noheader', '--parsable2', `--format=${SACCT_METRICS_FORMAT}`];
}

/**
 * Reads a job's accounting with one `sacct` (job and steps): state, exit code, elapsed time,
 * start/end, nodes, CPUs, peak memory over all steps and CPU efficiency.
 * @throws {TypeError} for an id that is not a Slurm job id.
 * @throws {SlurmTransportError} `ERR_SLURM_QUERY` when sacct fails, accounting is disabled, the job
 *   has no record yet (accounting lags the job's end by up to a few seconds: retry), or the output
 *   cannot be parsed; `ERR_ABORTED`, `ERR_SSH_*` from the executor.
 */
export async function getJobMetrics(
  executor: RemoteExecutor,
  jobId: string,
  options: SlurmCommandOptions = {},
): Promise<JobMetrics> {
  const argv = buildSacctMetricsArgv(checkJobId(jobId));
  const result = await runSlurmCommand(executor, argv, options);
  if (ACCOUNTING_DISABLED.test(result.stderr) || ACCOUNTING_DISABLED.test(result.stdout)) {
    throw new SlurmTransportError(
      'ERR_SLURM_QUERY',
      `sacct cannot report job ${jobId}: Slurm accounting storage is disabled on this cluster. Fix: job metrics need slurmdbd (AccountingStorageType=accounting_storage/slurmdbd); without it only the state is available, from squeue.`,
      {
        command: shellJoin(argv),
        exitCode: result.exitCode,
        signal: result.signal,
        stdout: result.stdout,
        stderr: result.stderr,
      },
    );
  }
  if (result.exitCode !== 0) {
    throw commandError(
      'ERR_SLURM_QUERY',
      `sacct could not report job ${jobId}`,
      argv,
      result,
      findHint(result.stderr),
    );
  }
  const metrics = parseSacctMetrics(jobId, result.stdout);
  if (metrics === undefined) {
    throw new SlurmTransportError(
      'ERR_SLURM_QUERY',
      `sacct has no record of job ${jobId}. Fix: accounting can lag a few seconds behind the job's end, so retry shortly; if it stays missing, check the id and that the job ran on this cluster.`,
      {
        command: shellJoin(argv),
        exitCode: result.exitCode,
        signal: result.signal,
        stdout: result.stdout,
        stderr: result.stderr,
      },
    );
  }
  return metrics;
}
