import type { PipesException, PipesMessageChannel } from '@slurm-pipes/pipes-protocol';
import {
  type JobMetrics,
  type JobState,
  type RemoteTransport,
  resolveSlurmJobResources,
  type SlurmJobResources,
} from '@slurm-pipes/slurm-transport';
import type { BridgeConfig } from '../config/schema.js';
import { BridgeError } from '../errors.js';
import type { PayloadCommand } from '../payload/payload-command.js';
import { openSlurmTransport, type SlurmTransportOptions } from './connect-transport.js';
import { finishJob } from './finish-job.js';
import { followJob } from './follow-job.js';
import { fetchFinalJobMetrics } from './job-metrics.js';
import { JobOutputRelay } from './job-output-relay.js';
import { startJobTail } from './job-tail.js';
import { detachException, recordedOutcome, recordJobOutcome } from './reattach/job-outcome.js';
import { resolveRemoteBase } from './remote-base.js';
import { readStepContext } from './step-context.js';
import { StoppedBeforeSubmit, stageAndSubmit } from './submit-step.js';

/** Options of {@link runSlurmStep}. */
export interface RunSlurmStepOptions {
  /** The bridge configuration; `slurm` must be set. */
  config: BridgeConfig;
  /** The payload as resolved locally; it is staged and run on the cluster. */
  payload: PayloadCommand;
  /** Where the payload's messages are relayed: the channel to Dagster, or a printer in standalone runs. */
  channel: PipesMessageChannel;
  /** Dagster's raw context, unchanged (pass the JSON text to keep it byte for byte). */
  contextData: Readonly<Record<string, unknown>> | string;
  /**
   * The bridge's environment. Never sent to the job (it may hold secrets); only
   * `SLURM_PIPES_REMOTE_PYTHON` and `SLURM_PIPES_REMOTE_NODE` are read from it.
   */
  env: NodeJS.ProcessEnv;
  /** Aborted when the bridge is asked to stop; its reason decides cancel or detach, see `decideOnAbort`. */
  signal: AbortSignal;
  /** Human progress lines, for the bridge's stderr. */
  log: (line: string) => void;
  /**
   * The connection to the login node.
   * @default one opened from `config.slurm.ssh` with {@link RunSlurmStepOptions.connection}, closed at the end
   */
  transport?: RemoteTransport;
  /** How to connect when no `transport` is given (multiplexing daemon or a direct login). @default {} */
  connection?: SlurmTransportOptions;
  /** Receives the job's stdout as it is written. @default process.stdout */
  stdout?: NodeJS.WritableStream;
  /** Receives the job's stderr as it is written. @default process.stderr */
  stderr?: NodeJS.WritableStream;
  /** Python on the cluster. @default env SLURM_PIPES_REMOTE_PYTHON, else 'python3' */
  remotePython?: string;
  /** Node.js on the cluster. @default env SLURM_PIPES_REMOTE_NODE, else 'node' */
  remoteNode?: string;
  /**
   * Export conditions used when bundling a JavaScript/TypeScript payload.
   * @default the `--conditions` the bridge runs with
   */
  nodeConditions?: readonly string[];
  /** First interval of job state polls, in ms. @default 1000 */
  pollIntervalMs?: number;
  /**
   * Called the moment `sbatch` returned, before `job.json` is written; the CLI's test hook
   * `SLURM_PIPES_TEST_CRASH_AFTER_SUBMIT=1` exits there to simulate a crash. @default none
   */
  onSubmitted?: (jobId: string) => void;
}

/** Where the time of a step went, in ms. */
export interface SlurmStepTimings {
  /** Connecting, checking the runtime, uploading and writing the run directory. */
  stageMs: number;
  /** The `sbatch` call. */
  submitMs: number | undefined;
  /** From submission until the job was first seen running. */
  queueMs: number | undefined;
  /** From first seen running until first seen ended. */
  runMs: number | undefined;
  /** From first seen ended until the result: draining output, sacct, releasing results. */
  finishMs: number | undefined;
  totalMs: number;
}

/** How a Slurm step ended. */
export interface SlurmStepResult {
  /** The bridge's exit code: 0 when the job completed. */
  exitCode: number;
  /** For the bridge's `closed` message: the payload's exception, or one describing the job's failure. */
  exception: PipesException | null;
  jobId: string | undefined;
  /** The job's final state; undefined when nothing was submitted or the end was not seen. */
  state: JobState | undefined;
  runDir: string | undefined;
  /** sacct's accounting of the job, when it answered. */
  metrics: JobMetrics | undefined;
  timings: SlurmStepTimings;
}

function stopped(message: string): PipesException {
  return { message: `${message}\n`, stack: [], name: 'SlurmStepStopped', cause: null, context: null };
}

function resolveResources(config: BridgeConfig): SlurmJobResources {
  try {
    return resolveSlurmJobResources(config.slurm?.queue ?? {}, config.extraSlurmOpts);
  } catch (cause) {
    throw new BridgeError('ERR_BRIDGE_CONFIG', `Invalid Slurm request: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Runs one Dagster step as a Slurm job and relays it live: stages the payload on the cluster,
 * submits a batch script, follows the job's messages, stdout and stderr over one SSH channel,
 * logs its queue states, and when it ends adds the job's accounting (`slurm_*` metadata) to the
 * materializations it reported. A job that does not complete fails the step with an exception
 * naming its state, exit code, reason, fix and stderr tail.
 *
 * A step is never submitted twice: when its run directory holds a job an earlier launch
 * submitted and no bridge has collected (the bridge was killed, or stopped for a restart), this
 * launch reattaches to it, relays its messages from the start and collects its end. Aborting
 * `signal` does what `decideOnAbort` says: SIGINT (Terminate) cancels the job and waits for it to
 * end; SIGTERM (restart) leaves it running, notes that in `job.json` and closes with an exception
 * saying a re-launch reattaches. Queue and run limits (`slurm.queueTimeoutSeconds`,
 * `slurm.runTimeoutSeconds`) are off by default and cancel only with `slurm.cancelOnTimeout`.
 *
 * The caller owns the `opened` and `closed` messages: the payload's own are folded, and the
 * result carries the exception for the caller's `closed`.
 * @throws {BridgeError} `ERR_BRIDGE_CONFIG` (no slurm settings, invalid queue or overrides,
 *   invalid context), `ERR_BRIDGE_PAYLOAD` (runtime missing on the cluster, payload that does not
 *   bundle); `SlurmTransportError` (`ERR_SSH_*`, `ERR_SLURM_SUBMIT`, …) from the transport.
 */
export async function runSlurmStep(options: RunSlurmStepOptions): Promise<SlurmStepResult> {
  const started = Date.now();
  const { config, signal, log } = options;
  const slurm = config.slurm;
  if (slurm === undefined) {
    throw new BridgeError(
      'ERR_BRIDGE_CONFIG',
      'Slurm mode needs the login node: set slurm.ssh (host, user, key) in the configuration, or SLURM_SSH_HOST, SLURM_SSH_USER and SLURM_SSH_KEY.',
    );
  }
  const resources = resolveResources(config);
  const context = readStepContext(options.contextData);
  const transport = options.transport ?? (await openSlurmTransport(slurm.ssh, options.connection ?? {}, log));
  const timings = (partial: Partial<SlurmStepTimings> = {}): SlurmStepTimings => ({
    stageMs: Date.now() - started,
    submitMs: undefined,
    queueMs: undefined,
    runMs: undefined,
    finishMs: undefined,
    ...partial,
    totalMs: Date.now() - started,
  });
  try {
    let step: Awaited<ReturnType<typeof stageAndSubmit>>;
    try {
      const remoteBase = await resolveRemoteBase(transport, slurm.remoteBase, signal);
      step = await stageAndSubmit({
        transport,
        config,
        resources,
        payload: options.payload,
        context,
        remoteBase,
        remotePython: options.remotePython ?? options.env.SLURM_PIPES_REMOTE_PYTHON ?? 'python3',
        remoteNode: options.remoteNode ?? options.env.SLURM_PIPES_REMOTE_NODE ?? 'node',
        nodeConditions: options.nodeConditions,
        signal,
        log,
        onSubmitted: options.onSubmitted,
      });
    } catch (error) {
      if (!(error instanceof StoppedBeforeSubmit) && !signal.aborted) throw error;
      log('step stopped before its Slurm job was submitted; nothing to cancel');
      const exception = stopped('slurm-pipes: the step was stopped before its Slurm job was submitted.');
      return {
        exitCode: 130,
        exception,
        jobId: undefined,
        state: undefined,
        runDir: undefined,
        metrics: undefined,
        timings: timings(),
      };
    }
    const { jobId, files } = step;
    const stageMs = step.submitStartedAt - started;
    const submitMs = step.reattached ? undefined : step.submittedAt - step.submitStartedAt;
    // job.json is already written (stageAndSubmit awaits it before returning). A reattached job
    // is relayed from the first byte of its files: the Dagster process behind this launch has
    // seen none of its messages, so each reaches it exactly once.
    if (!step.reattached) log(`submitted Slurm job ${jobId} (sbatch took ${submitMs} ms)`);

    const follower = followJob({
      executor: transport,
      jobId,
      signal,
      log,
      queueTimeoutMs: slurm.queueTimeoutSeconds === undefined ? undefined : slurm.queueTimeoutSeconds * 1000,
      runTimeoutMs: slurm.runTimeoutSeconds === undefined ? undefined : slurm.runTimeoutSeconds * 1000,
      cancelOnTimeout: slurm.cancelOnTimeout,
      ...(options.pollIntervalMs === undefined ? {} : { initialIntervalMs: options.pollIntervalMs }),
    });
    let earlyMetrics: Promise<JobMetrics | undefined> | undefined;
    const relay = new JobOutputRelay({
      channel: options.channel,
      stdout: options.stdout ?? process.stdout,
      stderr: options.stderr ?? process.stderr,
      log,
      onClosed: () => {
        follower.expectEnd();
        // The job ends moments after its payload's `closed`: its accounting is asked for now, so
        // the answer (sacct waits ~90 ms on slurmdbd) is there about when squeue shows the end.
        earlyMetrics ??= fetchFinalJobMetrics(transport, jobId, { log: () => {}, attempts: 6 });
      },
    });
    const tail = startJobTail(
      transport,
      [files.messages, files.stdout, files.stderr],
      (index, chunk) =>
        index === 0 ? relay.messages(chunk) : index === 1 ? relay.stdout(chunk) : relay.stderr(chunk),
      log,
    );
    const followed = await follower.done.catch(async (error: unknown) => {
      await tail.stop();
      relay.finish([]);
      // A re-launch reattaches again; only a job Slurm forgot needs the user to decide.
      const next = step.reattached
        ? ` A re-launch of this step reattaches to it; if Slurm no longer knows the job, remove ${files.record} to submit the step anew.`
        : '';
      throw new BridgeError(
        'ERR_BRIDGE_RELAY',
        `Lost track of Slurm job ${jobId}: ${(error as Error).message}\nThe job was not cancelled and may still be running; its files are in ${step.layout.runDir}.${next}`,
        { cause: error },
      );
    });
    const endedAt = followed.final?.observedAt ?? Date.now();
    const finished = await finishJob({ transport, step, followed, tail, relay, log, earlyMetrics });
    const outcome = recordedOutcome(followed, finished.state, signal.reason);
    await recordJobOutcome(transport, files.record, step.record, outcome, context.data.run_id, log);
    // A restart (SIGTERM) is no failure of the job: say that it keeps running and how to get its result.
    const exception =
      outcome.kind === 'detached' && followed.limitReached === undefined
        ? detachException(jobId, outcome.reason, files.record)
        : finished.exception;
    const runStartedAt = followed.startedAt;
    const result: SlurmStepResult = {
      ...finished,
      exception,
      jobId,
      runDir: step.layout.runDir,
      timings: timings({
        stageMs,
        submitMs,
        queueMs: runStartedAt === undefined ? undefined : runStartedAt - step.submittedAt,
        runMs: runStartedAt === undefined ? undefined : endedAt - runStartedAt,
        finishMs: Date.now() - endedAt,
      }),
    };
    log(summary(jobId, result));
    return result;
  } finally {
    if (options.transport === undefined) await transport.close();
  }
}

function summary(jobId: string, result: SlurmStepResult): string {
  const s = (ms: number | undefined) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`);
  const t = result.timings;
  return `Slurm job ${jobId} ${result.state ?? 'ended'}: staged ${s(t.stageMs)}, sbatch ${s(t.submitMs)}, queued ${s(t.queueMs)}, ran ${s(t.runMs)}, finished ${s(t.finishMs)}; total ${s(t.totalMs)}`;
}
