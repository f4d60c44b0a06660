import { type OptionLayer, readOptionLayer } from './option-layer.js';

/**
 * Per-asset overrides of the {@link SlurmQueueConfig}, dagster-slurm's `extra_slurm_opts` (same
 * keys). A key set here replaces the queue's value; `null` clears an optional queue value (e.g.
 * `{"qos": null}`); `mem` replaces the queue's `mem_per_cpu` and vice versa; `extra_directives`
 * are appended to the queue's.
 */
export interface SlurmJobOverrides {
  /** Nodes (`--nodes`); the queue's `num_nodes`. */
  nodes?: number | undefined;
  /** CPUs per task (`--cpus-per-task`); the queue's `cpus`. */
  cpus_per_task?: number | undefined;
  /** Memory per node (`--mem`), e.g. `"64G"`; replaces the queue's `mem_per_cpu`. */
  mem?: string | null | undefined;
  /** Memory per CPU (`--mem-per-cpu`); replaces the queue's `mem`. */
  mem_per_cpu?: string | null | undefined;
  /** GPUs per node (`--gpus-per-node`). */
  gpus_per_node?: number | undefined;
  /** Walltime (`--time`), formats as the queue's `time_limit`. */
  time_limit?: string | undefined;
  /** Partition (`--partition`); `""` or `null` means the cluster's default. */
  partition?: string | null | undefined;
  /** Quality of service (`--qos`). */
  qos?: string | null | undefined;
  /** Advanced reservation (`--reservation`). */
  reservation?: string | null | undefined;
  /** Account charged (`--account`). */
  account?: string | null | undefined;
  /** Node features (`--constraint`). */
  constraint?: string | null | undefined;
  /** Whole nodes (`--exclusive`). */
  exclusive?: boolean | undefined;
  /** `SIGNAL@SECONDS` before the time limit; `null` turns the queue's signal off. */
  signal_before_timeout?: string | null | undefined;
  /** More raw `--flag=value` options, appended after the queue's. */
  extra_directives?: readonly string[] | undefined;
}

/** `extra_slurm_opts` key → option field. */
export const JOB_OVERRIDE_KEYS: Readonly<Record<keyof SlurmJobOverrides, keyof OptionLayer>> = Object.freeze({
  nodes: 'nodes',
  cpus_per_task: 'cpusPerTask',
  mem: 'mem',
  mem_per_cpu: 'memPerCpu',
  gpus_per_node: 'gpusPerNode',
  time_limit: 'timeLimit',
  partition: 'partition',
  qos: 'qos',
  reservation: 'reservation',
  account: 'account',
  constraint: 'constraint',
  exclusive: 'exclusive',
  signal_before_timeout: 'signalBeforeTimeout',
  extra_directives: 'extraDirectives',
});

// Queue-config and sbatch names people use by mistake in extra_slurm_opts.
const OVERRIDE_ALIASES: Readonly<Record<string, string>> = {
  num_nodes: 'nodes',
  cpus: 'cpus_per_task',
  time: 'time_limit',
  gpus: 'gpus_per_node',
  memory: 'mem',
  extra_sbatch_directives: 'extra_directives',
  sbatch_directives: 'extra_directives',
};

export function readJobOverrides(input: unknown, path = 'extra_slurm_opts'): OptionLayer {
  return readOptionLayer(path, input, JOB_OVERRIDE_KEYS, OVERRIDE_ALIASES);
}

/**
 * Checks `extra_slurm_opts` without resolving them.
 * @throws {TypeError} for an unknown key (naming it and the closest known key), a value of the
 *   wrong type, or both `mem` and `mem_per_cpu`.
 * @throws {RangeError} for a malformed value.
 */
export function validateSlurmJobOverrides(input: unknown): asserts input is SlurmJobOverrides {
  readJobOverrides(input);
}
