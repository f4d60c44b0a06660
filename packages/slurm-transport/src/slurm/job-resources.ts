import { formatSlurmDuration } from './duration.js';
import { readJobOverrides, type SlurmJobOverrides } from './job-overrides.js';
import type { SignalBeforeTimeout } from './option-checks.js';
import { readQueueConfig, type SlurmQueueConfig } from './queue-config.js';

/** What one job asks Slurm for: the queue defaults with the asset's overrides applied. */
export interface SlurmJobResources {
  /** `--partition`; `undefined` for the cluster's default partition. */
  readonly partition: string | undefined;
  /** `--nodes`. */
  readonly nodes: number;
  /** `--cpus-per-task`. */
  readonly cpusPerTask: number;
  /** `--gpus-per-node`; `0` sends nothing. */
  readonly gpusPerNode: number;
  /** `--mem`; never set together with {@link memPerCpu}. */
  readonly mem: string | undefined;
  /** `--mem-per-cpu`; never set together with {@link mem}. */
  readonly memPerCpu: string | undefined;
  /** `--time`, canonical: `HH:MM:SS`, `D-HH:MM:SS` or `UNLIMITED`. */
  readonly timeLimit: string;
  /** The time limit in seconds; `null` for `UNLIMITED`. */
  readonly timeLimitSeconds: number | null;
  /** `--signal=B:<signal>@<seconds>`. */
  readonly signalBeforeTimeout: SignalBeforeTimeout | undefined;
  /** `--qos`. */
  readonly qos: string | undefined;
  /** `--reservation`. */
  readonly reservation: string | undefined;
  /** `--account`. */
  readonly account: string | undefined;
  /** `--constraint`. */
  readonly constraint: string | undefined;
  /** `--exclusive`. */
  readonly exclusive: boolean;
  /** Raw options, the queue's first, then the asset's. */
  readonly extraDirectives: readonly string[];
}

/** Defaults of {@link SlurmQueueConfig}, as dagster-slurm's. */
export const SLURM_QUEUE_DEFAULTS = Object.freeze({
  partition: '',
  num_nodes: 1,
  time_limit: '00:30:00',
  cpus: 2,
  gpus_per_node: 0,
  mem: '4096M',
  exclusive: false,
} as const);

const orUndefined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

/**
 * Validates the queue defaults and the asset's `extra_slurm_opts`, and merges them: a key in
 * `overrides` wins over the queue's; `mem` and `mem_per_cpu` replace each other; directives add up.
 * Accepts typed objects or raw records (e.g. JSON from Python).
 *
 * @throws {TypeError} naming the key (`queue.mem`, `extra_slurm_opts.cpus`) for an unknown key
 *   (with the closest known key), a wrong type, or `mem` and `mem_per_cpu` in the same layer.
 * @throws {RangeError} naming key and value for a malformed time limit, memory size, signal or
 *   directive, or a `signal_before_timeout` lead time not shorter than the time limit.
 */
export function resolveSlurmJobResources(
  queue?: SlurmQueueConfig | Readonly<Record<string, unknown>> | null,
  overrides?: SlurmJobOverrides | Readonly<Record<string, unknown>> | null,
): SlurmJobResources {
  const base = readQueueConfig(queue);
  const over = readJobOverrides(overrides);

  // A memory key in the overrides replaces the queue's memory request, whichever kind it was.
  let mem: string | undefined;
  let memPerCpu: string | undefined;
  if (over.mem !== undefined || over.memPerCpu !== undefined) {
    mem = orUndefined(over.mem);
    memPerCpu = orUndefined(over.memPerCpu);
  } else if (base.memPerCpu !== undefined && base.memPerCpu !== null) {
    memPerCpu = base.memPerCpu;
    mem = orUndefined(base.mem);
  } else {
    mem = base.mem === undefined ? SLURM_QUEUE_DEFAULTS.mem : orUndefined(base.mem);
  }

  const time = over.timeLimit ?? base.timeLimit;
  const timeLimitSeconds = time?.seconds ?? 30 * 60;
  const signal = over.signalBeforeTimeout !== undefined ? over.signalBeforeTimeout : base.signalBeforeTimeout;
  if (signal && signal.seconds >= timeLimitSeconds) {
    const where = over.signalBeforeTimeout ? 'extra_slurm_opts' : 'queue';
    throw new RangeError(
      `${where}.signal_before_timeout: the lead time of ${signal.seconds} s is not shorter than the time limit of ${formatSlurmDuration(timeLimitSeconds)} (${timeLimitSeconds} s), so the signal would come before the job could do any work, got ${JSON.stringify(`${signal.signal}@${signal.seconds}`)}. Lower the lead time or raise time_limit.`,
    );
  }

  return Object.freeze({
    partition: orUndefined(over.partition !== undefined ? over.partition : base.partition),
    nodes: over.nodes ?? base.nodes ?? SLURM_QUEUE_DEFAULTS.num_nodes,
    cpusPerTask: over.cpusPerTask ?? base.cpusPerTask ?? SLURM_QUEUE_DEFAULTS.cpus,
    gpusPerNode: over.gpusPerNode ?? base.gpusPerNode ?? SLURM_QUEUE_DEFAULTS.gpus_per_node,
    mem,
    memPerCpu,
    timeLimit: time === undefined ? SLURM_QUEUE_DEFAULTS.time_limit : formatSlurmDuration(time.seconds),
    timeLimitSeconds: Number.isFinite(timeLimitSeconds) ? timeLimitSeconds : null,
    signalBeforeTimeout: orUndefined(signal),
    qos: orUndefined(over.qos !== undefined ? over.qos : base.qos),
    reservation: orUndefined(over.reservation !== undefined ? over.reservation : base.reservation),
    account: orUndefined(over.account !== undefined ? over.account : base.account),
    constraint: orUndefined(over.constraint !== undefined ? over.constraint : base.constraint),
    exclusive: over.exclusive ?? base.exclusive ?? SLURM_QUEUE_DEFAULTS.exclusive,
    extraDirectives: Object.freeze([...(base.extraDirectives ?? []), ...(over.extraDirectives ?? [])]),
  });
}
