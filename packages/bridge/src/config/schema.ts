import * as z from 'zod';

const PORT_ERROR = 'must be the TCP port of the SSH server, a whole number from 1 to 65535 (usually 22)';

/** SSH settings for the login node (Slurm mode). Secrets travel only in memory and env vars. */
export const SshConfig = z.strictObject({
  host: z.string().min(1),
  port: z.coerce
    .number({ error: PORT_ERROR })
    .int({ error: PORT_ERROR })
    .min(1, { error: PORT_ERROR })
    .max(65535, { error: PORT_ERROR })
    .default(22),
  user: z.string().min(1),
  keyPath: z.string().optional(),
  keyPassphrase: z.string().optional(),
  password: z.string().optional(),
  otp: z.string().optional(),
  useAgent: z.boolean().default(true),
  hostKeyPolicy: z.enum(['strict', 'accept-new', 'off']).default('strict'),
  knownHostsPath: z.string().optional(),
  keepaliveIntervalMs: z.coerce.number().int().nonnegative().default(15_000),
  get jumpHost() {
    return SshConfig.optional();
  },
});
export type SshConfig = z.infer<typeof SshConfig>;

// The job's stdout and stderr live under the remote base, and sbatch reads `%` (replacement
// symbols such as %j) and `\` (it drops them) in --output/--error: the job would write elsewhere
// and fail to start (JobLaunchFailure). Checked here so nothing is uploaded first.
function checkRemoteBase(path: string, ctx: z.RefinementCtx): void {
  const problem =
    path.trim() === ''
      ? 'must be a directory on the cluster, e.g. "/scratch/alice/slurm-pipes"'
      : // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
        /[\u0000-\u001f\u007f]/.test(path)
        ? 'must not contain control characters such as newlines or tabs'
        : /[%\\]/.test(path)
          ? 'must not contain "%" or "\\": sbatch reads them as file name patterns in --output and --error, so the job would write its output elsewhere and fail to start. Choose a directory without them'
          : undefined;
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
}

/** Slurm mode settings; the queue is validated in detail by `@slurm-pipes/slurm-transport`. */
export const SlurmConfig = z.strictObject({
  ssh: SshConfig,
  queue: z.record(z.string(), z.unknown()).default({}),
  /** Where runs and the cache live on the cluster. @default '$HOME/.slurm-pipes' */
  remoteBase: z.string().superRefine(checkRemoteBase).optional(),
  /** Python on the cluster, e.g. a pre-deployed environment's `bin/python`. @default 'python3' */
  python: z.string().min(1).optional(),
  /** Node.js on the cluster. @default 'node' (this machine's Node is shipped when there is none) */
  node: z.string().min(1).optional(),
  /** Longest wait in the queue, in seconds. @default no limit */
  queueTimeoutSeconds: z.coerce.number().positive().optional(),
  /** Longest run time, in seconds (Slurm's own time_limit still applies). @default no limit */
  runTimeoutSeconds: z.coerce.number().positive().optional(),
  /** When a limit above is reached: cancel the job (true) or leave it running to reattach (false). @default false */
  cancelOnTimeout: z.boolean().default(false),
});
export type SlurmConfig = z.infer<typeof SlurmConfig>;

/**
 * The bridge configuration. Sources, highest first: command-line flags, `SLURM_PIPES_*` env
 * vars, `SLURM_PIPES_CONFIG_JSON` (what the Python package sets), the file named by `--config`
 * or `SLURM_PIPES_CONFIG`.
 */
export const BridgeConfig = z.strictObject({
  /** Where payloads run. @default 'local' */
  mode: z.enum(['local', 'slurm']).default('local'),
  local: z
    .strictObject({
      /** Interpreter for `.py` payloads. @default 'python3' */
      python: z.string().min(1).default('python3'),
      /** Node.js for `.js`/`.ts` payloads. @default the Node running the bridge */
      node: z.string().min(1).optional(),
    })
    .default({ python: 'python3' }),
  slurm: SlurmConfig.optional(),
  /** Per-call Slurm overrides (`extra_slurm_opts`). */
  extraSlurmOpts: z.record(z.string(), z.unknown()).default({}),
  /** Extra files shipped with the payload. */
  extraFiles: z.array(z.string()).default([]),
  /** Environment for the payload (`extra_env`). */
  payloadEnv: z.record(z.string(), z.string()).default({}),
  /** Milliseconds between SIGTERM and SIGKILL when the payload must stop. @default 10000 */
  terminationGraceMs: z.coerce.number().int().nonnegative().default(10_000),
  /**
   * What a re-launch of a step is matched by, in place of the run id, to reattach to the step's
   * Slurm job: Dagster's root run id (`dagster/root_run_id`), which a re-execution shares with
   * the run it re-executes. The Python `ComputeResource` sets it. @default the run id
   */
  reattachKey: z.string().min(1).optional(),
});
export type BridgeConfig = z.infer<typeof BridgeConfig>;
export type BridgeConfigInput = z.input<typeof BridgeConfig>;
