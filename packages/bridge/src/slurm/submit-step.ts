import { posix } from 'node:path';
import { encodeParam } from '@slurm-pipes/pipes-protocol';
import { type RemoteTransport, type SlurmJobResources, submitJob } from '@slurm-pipes/slurm-transport';
import type { BridgeConfig } from '../config/schema.js';
import type { PayloadCommand } from '../payload/payload-command.js';
import { buildBashLauncher } from './launchers/bash-launcher.js';
import { timeoutSignalEnv } from './launchers/timeout-signal-env.js';
import { payloadArgs, stagePayload } from './payload/stage-payload.js';
import {
  newJobRecord,
  readStepRecords,
  type StepJobRecord,
  uniqueJobName,
  writeJobRecord,
  writeSubmitIntent,
} from './reattach/job-record.js';
import { type LaunchPlan, planLaunch } from './reattach/launch-plan.js';
import { recoverJobByName, unreadableRecordsError } from './reattach/recover-by-name.js';
import { acquireStepLock } from './reattach/step-lock.js';
import { prepareRunDir, type RunDirLink, writeRemoteFile } from './remote-files.js';
import { type RunDirLayout, runDirLayout } from './run-dir.js';
import { assertNoSecrets, jobEnvironment, sshSecrets } from './secret-guard.js';
import { runDirKey, type StepContext } from './step-context.js';

/** The files of a step's run directory. */
export interface RunDirFiles {
  context: string;
  messages: string;
  stdout: string;
  stderr: string;
  script: string;
  record: string;
  /** `submit.json`: the job name a launch is about to submit with (found by name after a crash). */
  intent: string;
}

/** Options of {@link stageAndSubmit}. */
export interface StageAndSubmitOptions {
  transport: RemoteTransport;
  config: BridgeConfig;
  resources: SlurmJobResources;
  payload: PayloadCommand;
  context: StepContext;
  remoteBase: string;
  remotePython: string;
  remoteNode: string;
  nodeConditions?: readonly string[] | undefined;
  signal: AbortSignal;
  log: (line: string) => void;
  /**
   * Called the moment `sbatch` returned a job id, before `job.json` is written (a test hook
   * simulates a crash there).
   */
  onSubmitted?: ((jobId: string) => void) | undefined;
}

/** How a launch got its job. */
export type JobOrigin =
  /** This launch called `sbatch`. */
  | 'submitted'
  /** An earlier launch's `job.json` named the job. */
  | 'record'
  /** An earlier launch died between `sbatch` and `job.json`; Slurm found the job by its unique name. */
  | 'name';

/** A step whose job has been submitted, now or by an earlier launch. */
export interface SubmittedStep {
  jobId: string;
  layout: RunDirLayout;
  files: RunDirFiles;
  /** When sbatch was started and when it returned (ms since the epoch); for a reattached job, when this launch found it. */
  submitStartedAt: number;
  submittedAt: number;
  /** True when an earlier launch submitted the job and this one reattached to it. */
  reattached: boolean;
  origin: JobOrigin;
  /** The job's durable record as it is in `job.json` (or should be, if writing it failed). */
  record: StepJobRecord;
}

/** The files of the run directory `runDir`. */
export function runDirFiles(runDir: string): RunDirFiles {
  const at = (name: string) => posix.join(runDir, name);
  return {
    context: at('context.json'),
    messages: at('messages.jsonl'),
    stdout: at('stdout'),
    stderr: at('stderr'),
    script: at('job.sh'),
    record: at('job.json'),
    intent: at('submit.json'),
  };
}

/** Thrown to unwind staging when the step was stopped before anything was submitted. */
export class StoppedBeforeSubmit extends Error {
  override readonly name = 'StoppedBeforeSubmit';
}

/**
 * The step's run directory. It is keyed by the reattach key (Dagster's root run id, which a
 * re-execution shares with the run it re-executes) when the configuration has one, else by the
 * run id; then by step (asset keys or op) and partition.
 */
export function stepLayout(
  remoteBase: string,
  context: StepContext,
  payload: PayloadCommand,
  reattachKey: string | undefined,
): RunDirLayout {
  const key = runDirKey(context.data, [payload.path, ...payloadArgs(payload)]);
  return runDirLayout(remoteBase, { ...key, runId: reattachKey ?? key.runId });
}

/**
 * Everything up to `sbatch`, and never `sbatch` twice for one step. First the records of the
 * step's run directory: a job an earlier launch submitted and no bridge has collected yet is
 * reattached to at once. Otherwise: stages payload and extra files (outside the lock: uploads
 * may be long, and are idempotent), takes the step's lock, reads the records again (another
 * launch may have submitted meanwhile), looks up by name a job whose launch died between `sbatch`
 * and `job.json`, and only then prepares the run directory, writes `submit.json` (the job's
 * unique name), runs `sbatch` and writes `job.json` (atomically, flushed) before releasing the
 * lock. Aborting `signal` stops everything before sbatch; once sbatch starts it runs to the end
 * and the record is written, so a job id is never lost; the caller handles the abort.
 * @throws {StoppedBeforeSubmit} when `signal` aborted before sbatch started.
 * @throws {BridgeError} `ERR_BRIDGE_RELAY` when the records cannot be read or trusted, so that
 *   submitting could run the step twice.
 */
export async function stageAndSubmit(options: StageAndSubmitOptions): Promise<SubmittedStep> {
  const { transport, config, payload, context, signal, log } = options;
  const layout = stepLayout(options.remoteBase, context, payload, config.reattachKey);
  const files = runDirFiles(layout.runDir);
  log(`run directory on the cluster: ${layout.runDir}`);
  // Staging (idempotent uploads to the cache, runtime checks) runs while the records are read
  // and the lock is taken: most launches submit, and all of these wait on the cluster. A
  // reattach ignores its outcome.
  const unneeded = new AbortController();
  const stagingSignal = AbortSignal.any([signal, unneeded.signal]);
  const staging = stopOnAbort(signal, () => stageStep({ ...options, signal: stagingSignal }, layout, files));
  staging.catch(() => {}); // awaited below unless the records say reattach
  const reattach = (record: StepJobRecord, origin: 'record' | 'name') => {
    unneeded.abort(new Error('the step reattaches to its job; staging is not needed'));
    return reattachedStep(layout, files, record, origin, log);
  };
  const unlocked = await stopOnAbort(signal, () =>
    readStepRecords(transport, files.record, files.intent, signal),
  );
  const early = planLaunch(unlocked);
  if (early.kind === 'reattach') return reattach(early.record, 'record');
  if (early.kind === 'refuse') throw unreadableRecordsError(files, early.why);

  const recordFor = (jobId: string, jobName: string, submittedAt: number | undefined) =>
    newJobRecord({ jobId, jobName, context, reattachKey: config.reattachKey, layout, submittedAt });
  const lock = await stopOnAbort(signal, () => acquireStepLock(transport, layout.runDir, { signal, log }));
  try {
    const plan: LaunchPlan = planLaunch(
      await stopOnAbort(signal, () => readStepRecords(transport, files.record, files.intent, signal)),
    );
    if (plan.kind === 'reattach') return reattach(plan.record, 'record');
    if (plan.kind === 'refuse') throw unreadableRecordsError(files, plan.why);
    if (plan.kind === 'find-by-name') {
      const recovered = { jobName: plan.jobName, runDir: layout.runDir, files, signal, log };
      const found = await stopOnAbort(signal, () =>
        recoverJobByName(transport, recovered, (jobId) => recordFor(jobId, plan.jobName, undefined)),
      );
      if (found !== undefined) return reattach(found, 'name');
    } else if (plan.previous !== undefined) {
      log(
        `the step's previous Slurm job ${plan.previous.jobId} ended (${plan.previous.collected?.state ?? 'state unknown'}) and its result was delivered; submitting a new job`,
      );
    }
    const script = await staging;
    if (signal.aborted) throw new StoppedBeforeSubmit('stopped before sbatch');
    await stopOnAbort(signal, () =>
      Promise.all([
        prepareRunDir(transport, layout.runDir, context.json, script.links, { signal }),
        writeRemoteFile(transport, files.script, script.text, 0o700, { signal }),
      ]),
    );
    if (signal.aborted) throw new StoppedBeforeSubmit('stopped before sbatch');
    // After prepareRunDir, which removes an earlier launch's submit.json.
    const jobName = uniqueJobName(layout.step);
    await writeSubmitIntent(transport, files.intent, jobName);
    const submitStartedAt = Date.now();
    const jobId = await submitJob(transport, {
      resources: options.resources,
      jobName,
      workDir: layout.runDir,
      stdoutPath: files.stdout,
      stderrPath: files.stderr,
      scriptPath: files.script,
    });
    const submittedAt = Date.now();
    options.onSubmitted?.(jobId);
    const record = recordFor(jobId, jobName, submittedAt);
    // Not abortable: once the job exists its record must too. Should it fail, the next launch
    // still finds the job by the name in submit.json.
    await writeJobRecord(transport, files.record, record).catch((error: unknown) =>
      log(
        `could not write ${files.record} (a re-launch finds job ${jobId} by its name ${jobName}): ${(error as Error).message}`,
      ),
    );
    return {
      jobId,
      layout,
      files,
      submitStartedAt,
      submittedAt,
      reattached: false,
      origin: 'submitted',
      record,
    };
  } finally {
    await lock.release();
  }
}

// Runs `action`; when the step's signal aborted meanwhile, its failure means "stopped".
async function stopOnAbort<T>(signal: AbortSignal, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (signal.aborted) throw new StoppedBeforeSubmit('stopped before sbatch', { cause: error });
    throw error;
  }
}

// Uploads payload and extra files to the cache and builds the batch script (nothing in the run directory yet).
async function stageStep(
  options: StageAndSubmitOptions,
  layout: RunDirLayout,
  files: RunDirFiles,
): Promise<{ text: string; links: RunDirLink[] }> {
  const { transport, config, payload, context, signal, log } = options;
  const staged = await stagePayload({
    transport,
    payload,
    extraFiles: config.extraFiles,
    cacheDir: posix.join(options.remoteBase, 'cache'),
    remotePython: options.remotePython,
    remoteNode: options.remoteNode,
    localPython: config.local.python,
    nodeConditions: options.nodeConditions,
    signal,
    log,
  });
  const jobEnv = jobEnvironment(config.payloadEnv);
  if (jobEnv.dropped.length > 0) {
    log(`not exported to the job (bridge settings that may hold secrets): ${jobEnv.dropped.join(', ')}`);
  }
  const text = buildBashLauncher({
    runDir: layout.runDir,
    payloadEnv: jobEnv.env,
    // Mirrors PipesFileContextInjector/PipesFileMessageReader: both params point at files.
    bootstrapEnv: {
      DAGSTER_PIPES_CONTEXT: encodeParam({ path: files.context }),
      DAGSTER_PIPES_MESSAGES: encodeParam({ path: files.messages }),
      // Slurm sends signal_before_timeout to the batch shell (`--signal=B:`), which the script
      // replaces with the payload (`exec`), so the payload gets it; these say which and when.
      ...timeoutSignalEnv(options.resources.signalBeforeTimeout),
    },
    pythonPath: staged.pythonPath,
    argv: staged.argv(layout.runDir),
    description: `slurm-pipes step ${layout.step} of run ${context.data.run_id}`,
    messagesFile: files.messages,
  });
  assertNoSecrets({ 'job.sh': text, 'context.json': context.json }, sshSecrets(config.slurm?.ssh));
  return { text, links: staged.links };
}

function reattachedStep(
  layout: RunDirLayout,
  files: RunDirFiles,
  record: StepJobRecord,
  origin: 'record' | 'name',
  log: (line: string) => void,
): SubmittedStep {
  log(
    origin === 'record'
      ? `reattaching to Slurm job ${record.jobId} from ${files.record} (an earlier launch of this step submitted it; not submitting again)`
      : `reattaching to Slurm job ${record.jobId}, found by its name ${record.jobName} (an earlier launch died before writing job.json; not submitting again)`,
  );
  const now = Date.now();
  return {
    jobId: record.jobId,
    layout,
    files,
    submitStartedAt: now,
    submittedAt: now,
    reattached: true,
    origin,
    record,
  };
}
