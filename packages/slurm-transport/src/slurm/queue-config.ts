import { type OptionLayer, readOptionLayer } from './option-layer.js';

/**
 * Default Slurm request for every job, as dagster-slurm's `SlurmQueueConfig` (same keys, so values
 * written in Python arrive unchanged). Per-asset {@link SlurmJobOverrides} take precedence.
 * Absent and `undefined` keys take their defaults; `null` does too, except for `mem`.
 */
export interface SlurmQueueConfig {
  /**
   * Partition (`--partition`); empty means the cluster's default partition.
   * @default ""
   */
  partition?: string | null | undefined;
  /**
   * Nodes per job (`--nodes`).
   * @default 1
   */
  num_nodes?: number | undefined;
  /**
   * Walltime (`--time`): `HH:MM:SS`, `D-HH:MM:SS`, `D-HH:MM`, `D-HH`, `MM:SS`, `MM`, or
   * `UNLIMITED`/`infinite`. Zero is rejected (Slurm reads it as "no limit").
   * @default "00:30:00"
   */
  time_limit?: string | undefined;
  /**
   * `SIGNAL@SECONDS` (e.g. `USR1@300`): Slurm sends the signal to the batch shell that many seconds
   * before the time limit (`--signal=B:USR1@300`), so the job can checkpoint. The lead time must be
   * shorter than `time_limit`; Slurm may deliver the signal up to 60 s early.
   * @default undefined (no signal)
   */
  signal_before_timeout?: string | null | undefined;
  /**
   * CPUs per task (`--cpus-per-task`).
   * @default 2
   */
  cpus?: number | undefined;
  /**
   * GPUs per node (`--gpus-per-node`, needs `select/cons_tres`; sites with only `--gres` can pass
   * `extra_directives: ["--gres=gpu:2"]` instead). `0` sends nothing.
   * @default 0
   */
  gpus_per_node?: number | undefined;
  /**
   * Memory per node (`--mem`), e.g. `"4096M"`, `"32G"`; a bare number means megabytes. `null`
   * sends no `--mem` (the partition's default applies). Excludes `mem_per_cpu`.
   * @default "4096M" (unless mem_per_cpu is set)
   */
  mem?: string | null | undefined;
  /**
   * Memory per allocated CPU (`--mem-per-cpu`). Excludes `mem`.
   * @default undefined
   */
  mem_per_cpu?: string | null | undefined;
  /** Quality of service (`--qos`). @default undefined */
  qos?: string | null | undefined;
  /** Advanced reservation (`--reservation`). @default undefined */
  reservation?: string | null | undefined;
  /** Account charged (`--account`); some sites require it. @default undefined */
  account?: string | null | undefined;
  /** Node features (`--constraint`), e.g. `"skylake&ib"`. @default undefined */
  constraint?: string | null | undefined;
  /** Whole nodes, not shared with other jobs (`--exclusive`). @default false */
  exclusive?: boolean | undefined;
  /**
   * Further sbatch options, one `--flag` or `--flag=value` per element (e.g. `"--licenses=x:1"`).
   * Flags that have a key of their own, or that slurm-pipes sets, are rejected.
   * @default []
   */
  extra_directives?: readonly string[] | undefined;
}

/** `SlurmQueueConfig` key → option field. */
export const QUEUE_CONFIG_KEYS: Readonly<Record<keyof SlurmQueueConfig, keyof OptionLayer>> = Object.freeze({
  partition: 'partition',
  num_nodes: 'nodes',
  time_limit: 'timeLimit',
  signal_before_timeout: 'signalBeforeTimeout',
  cpus: 'cpusPerTask',
  gpus_per_node: 'gpusPerNode',
  mem: 'mem',
  mem_per_cpu: 'memPerCpu',
  qos: 'qos',
  reservation: 'reservation',
  account: 'account',
  constraint: 'constraint',
  exclusive: 'exclusive',
  extra_directives: 'extraDirectives',
});

// Names people bring from extra_slurm_opts, sbatch or dagster-slurm 1.22.
const QUEUE_ALIASES: Readonly<Record<string, string>> = {
  nodes: 'num_nodes',
  cpus_per_task: 'cpus',
  time: 'time_limit',
  gpus: 'gpus_per_node',
  memory: 'mem',
  extra_sbatch_directives: 'extra_directives',
  sbatch_directives: 'extra_directives',
};

export function readQueueConfig(input: unknown, path = 'queue'): OptionLayer {
  return readOptionLayer(path, input, QUEUE_CONFIG_KEYS, QUEUE_ALIASES);
}

/**
 * Checks a queue configuration without resolving it, e.g. when the bridge loads its config.
 * @throws {TypeError} for an unknown key (naming it and the closest known key), a value of the
 *   wrong type, or both `mem` and `mem_per_cpu`.
 * @throws {RangeError} for a malformed value (time limit, memory size, signal, directive).
 */
export function validateSlurmQueueConfig(input: unknown): asserts input is SlurmQueueConfig {
  readQueueConfig(input);
}
