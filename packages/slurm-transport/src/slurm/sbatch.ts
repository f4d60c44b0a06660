import { SlurmTransportError } from '../errors.js';
import type { RemoteExecutor } from '../ssh/remote-executor.js';
import { shellJoin } from '../ssh/shell-quote.js';
import type { SlurmJobOverrides } from './job-overrides.js';
import { resolveSlurmJobResources, type SlurmJobResources } from './job-resources.js';
import { hasControlCharacter } from './option-checks.js';
import type { SlurmQueueConfig } from './queue-config.js';
import { SBATCH_HINTS } from './sbatch-hints.js';
import { commandError, findHint, runSlurmCommand, type SlurmCommandOptions } from './slurm-command.js';

/** What to submit: the request (queue defaults plus overrides, or resolved resources) and paths. */
export interface SbatchSpec {
  /** Queue defaults; ignored when {@link resources} is given. @default {} (all defaults) */
  queue?: SlurmQueueConfig | Readonly<Record<string, unknown>> | null | undefined;
  /** The asset's `extra_slurm_opts`; ignored when {@link resources} is given. @default {} */
  overrides?: SlurmJobOverrides | Readonly<Record<string, unknown>> | null | undefined;
  /** An already resolved request (from {@link resolveSlurmJobResources}); wins over queue/overrides. */
  resources?: SlurmJobResources | undefined;
  /** `--job-name`. */
  jobName: string;
  /** `--chdir`: the job's working directory on the cluster. */
  workDir: string;
  /** `--output`; may use sbatch patterns such as `%j` (job id). */
  stdoutPath: string;
  /** `--error`; may use sbatch patterns such as `%j`. */
  stderrPath: string;
  /** The batch script on the cluster (it must start with `#!`). */
  scriptPath: string;
  /** Arguments passed to the batch script. @default [] */
  scriptArgs?: readonly string[] | undefined;
  /**
   * `--export=NONE`: the job starts without the submitting shell's environment (Slurm's default
   * is to export it). Note that `srun` inside such a job also defaults to `NONE`.
   * @default false
   */
  exportNone?: boolean | undefined;
}

function checkPath(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  if (hasControlCharacter(value)) {
    throw new RangeError(
      `${name} must not contain control characters such as newlines, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * The `sbatch` argv for `spec`: `--parsable`, then every option as one `--flag=value` element
 * (values can never be taken for flags), then the script and its arguments. Everything is stated
 * explicitly (nodes, CPUs, memory, time); there are no site heuristics such as dropping `--mem`
 * for GPU jobs.
 * @throws {TypeError | RangeError} from {@link resolveSlurmJobResources}, or for an empty or
 *   multi-line name or path, or a script path starting with `-`.
 */
export function buildSbatchArgv(spec: SbatchSpec): string[] {
  const resources = spec.resources ?? resolveSlurmJobResources(spec.queue, spec.overrides);
  const jobName = checkPath('jobName', spec.jobName);
  const scriptPath = checkPath('scriptPath', spec.scriptPath);
  if (scriptPath.startsWith('-')) {
    throw new RangeError(
      `scriptPath must not start with "-" (sbatch would read it as an option), got ${JSON.stringify(scriptPath)}`,
    );
  }
  const argv = [
    'sbatch',
    '--parsable',
    `--job-name=${jobName}`,
    `--chdir=${checkPath('workDir', spec.workDir)}`,
    `--output=${checkPath('stdoutPath', spec.stdoutPath)}`,
    `--error=${checkPath('stderrPath', spec.stderrPath)}`,
  ];
  if (resources.partition !== undefined) argv.push(`--partition=${resources.partition}`);
  argv.push(`--nodes=${resources.nodes}`, `--cpus-per-task=${resources.cpusPerTask}`);
  if (resources.gpusPerNode > 0) argv.push(`--gpus-per-node=${resources.gpusPerNode}`);
  if (resources.mem !== undefined) argv.push(`--mem=${resources.mem}`);
  if (resources.memPerCpu !== undefined) argv.push(`--mem-per-cpu=${resources.memPerCpu}`);
  argv.push(`--time=${resources.timeLimit}`);
  const signal = resources.signalBeforeTimeout;
  // Mirrors dagster-slurm: `B:` signals only the batch shell, whose script forwards it.
  if (signal !== undefined) argv.push(`--signal=B:${signal.signal}@${signal.seconds}`);
  if (resources.qos !== undefined) argv.push(`--qos=${resources.qos}`);
  if (resources.reservation !== undefined) argv.push(`--reservation=${resources.reservation}`);
  if (resources.account !== undefined) argv.push(`--account=${resources.account}`);
  if (resources.constraint !== undefined) argv.push(`--constraint=${resources.constraint}`);
  if (resources.exclusive) argv.push('--exclusive');
  if (spec.exportNone === true) argv.push('--export=NONE');
  argv.push(...resources.extraDirectives, scriptPath);
  for (const [index, arg] of (spec.scriptArgs ?? []).entries()) {
    if (typeof arg !== 'string' || arg.includes('\0')) {
      throw new TypeError(
        `scriptArgs[${index}] must be a string without NUL bytes, got ${JSON.stringify(arg)}`,
      );
    }
    argv.push(arg);
  }
  return argv;
}

/** A job id as `sbatch --parsable` prints it: `123`, or `123;cluster` on multi-cluster setups. */
export interface ParsedSbatchOutput {
  readonly jobId: string;
  readonly cluster: string | undefined;
}

/**
 * Reads the job id from `sbatch --parsable` output. Only the last non-empty line counts, since
 * job-submit plugins sometimes print notices first.
 * @returns `undefined` when that line is not `<digits>` or `<digits>;<cluster>`.
 */
export function parseSbatchOutput(stdout: string): ParsedSbatchOutput | undefined {
  const lines = stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const match = /^(\d+)(?:;(\S+))?$/.exec(lines.at(-1) ?? '');
  if (!match?.[1]) {
    return undefined;
  }
  return { jobId: match[1], cluster: match[2] };
}

/** Options of {@link submitJob}. */
export interface SubmitJobOptions extends SlurmCommandOptions {
  /**
   * Milliseconds before `sbatch` is abandoned. A job may still have been submitted when this
   * fires; look for it by name (`squeue --name=<jobName>`) before submitting again.
   * @default 120000
   */
  timeoutMs?: number | undefined;
}

/**
 * Submits a batch job with `sbatch --parsable` (argv from {@link buildSbatchArgv}) and returns
 * its job id.
 * @throws {TypeError | RangeError} for an invalid request (before anything runs).
 * @throws {SlurmTransportError} `ERR_SLURM_SUBMIT` when sbatch fails (message: sbatch's error and
 *   what to change, e.g. for "invalid partition specified", "Requested node configuration is not
 *   available" or "Job violates accounting/QOS policy") or prints no job id; `ERR_ABORTED`,
 *   `ERR_SSH_*` from the executor.
 */
export async function submitJob(
  executor: RemoteExecutor,
  spec: SbatchSpec,
  options: SubmitJobOptions = {},
): Promise<string> {
  const argv = buildSbatchArgv(spec);
  const result = await runSlurmCommand(executor, argv, options, 120_000);
  if (result.exitCode !== 0) {
    throw commandError(
      'ERR_SLURM_SUBMIT',
      `sbatch could not submit job "${spec.jobName}"`,
      argv,
      result,
      findHint(result.stderr, SBATCH_HINTS),
    );
  }
  const parsed = parseSbatchOutput(result.stdout);
  if (parsed === undefined) {
    throw new SlurmTransportError(
      'ERR_SLURM_SUBMIT',
      `sbatch exited 0 but printed no job id for "${spec.jobName}": expected "<id>" or "<id>;<cluster>" from --parsable, got ${JSON.stringify(result.stdout.slice(0, 200))}. Fix: check that \`sbatch\` on the login node is Slurm's and not a wrapper script that rewrites its output.`,
      {
        command: shellJoin(argv),
        exitCode: result.exitCode,
        signal: result.signal,
        stdout: result.stdout,
        stderr: result.stderr,
      },
    );
  }
  return parsed.jobId;
}
