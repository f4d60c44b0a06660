import { posix } from 'node:path';
import { encodeParam } from '@slurm-pipes/pipes-protocol';
import { type RemoteTransport, type SlurmJobResources, submitJob } from '@slurm-pipes/slurm-transport';
import type { BridgeConfig } from '../config/schema.js';
import type { PayloadCommand } from '../payload/payload-command.js';
import { buildBashLauncher } from './launchers/bash-launcher.js';
import { payloadArgs, stagePayload } from './payload/stage-payload.js';
import { findJobByName, readStepRecords, uniqueJobName, writeSubmitIntent } from './reattach/job-record.js';
import { prepareRunDir, writeRemoteFile } from './remote-files.js';
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
}

/** A step whose job has been submitted. */
export interface SubmittedStep {
  jobId: string;
  layout: RunDirLayout;
  files: RunDirFiles;
  /** When sbatch was started and when it returned (ms since the epoch). */
  submitStartedAt: number;
  submittedAt: number;
  /** True when an earlier launch submitted the job and this one reattached to it. */
  reattached: boolean;
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
 * Everything up to `sbatch`: stages payload and extra files, prepares the run directory (context
 * file, empty output files, linked payload), writes the batch script, then submits it. Aborting
 * `signal` stops staging; once sbatch starts it runs to the end (so a job id is never lost) and
 * the caller handles the abort.
 * @throws {StoppedBeforeSubmit} when `signal` aborted before sbatch started.
 */
export async function stageAndSubmit(options: StageAndSubmitOptions): Promise<SubmittedStep> {
  const { transport, config, payload, context, signal, log } = options;
  const layout = runDirLayout(
    options.remoteBase,
    runDirKey(context.data, [payload.path, ...payloadArgs(payload)]),
  );
  const files = runDirFiles(layout.runDir);
  log(`run directory on the cluster: ${layout.runDir}`);
  const existing = await findEarlierJob(transport, files, signal, log);
  if (existing !== undefined) {
    const now = Date.now();
    return { jobId: existing, layout, files, submitStartedAt: now, submittedAt: now, reattached: true };
  }
  try {
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
    const script = buildBashLauncher({
      runDir: layout.runDir,
      payloadEnv: jobEnv.env,
      // Mirrors PipesFileContextInjector/PipesFileMessageReader: both params point at files.
      bootstrapEnv: {
        DAGSTER_PIPES_CONTEXT: encodeParam({ path: files.context }),
        DAGSTER_PIPES_MESSAGES: encodeParam({ path: files.messages }),
      },
      pythonPath: staged.pythonPath,
      argv: staged.argv(layout.runDir),
      description: `slurm-pipes step ${layout.step} of run ${context.data.run_id}`,
    });
    assertNoSecrets({ 'job.sh': script, 'context.json': context.json }, sshSecrets(config.slurm?.ssh));
    await Promise.all([
      prepareRunDir(transport, layout.runDir, context.json, staged.links, { signal }),
      writeRemoteFile(transport, files.script, script, 0o700, { signal }),
    ]);
  } catch (error) {
    if (signal.aborted) throw new StoppedBeforeSubmit('stopped while staging', { cause: error });
    throw error;
  }
  if (signal.aborted) throw new StoppedBeforeSubmit('stopped before sbatch');
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
  return { jobId, layout, files, submitStartedAt, submittedAt: Date.now(), reattached: false };
}

/**
 * The job an earlier launch of this step submitted, if any — so a re-launch (a Dagster retry, a
 * bridge killed mid-job) never calls sbatch again: `job.json` names it, or, when that launch died
 * between sbatch and writing `job.json`, Slurm finds it by the unique name in `submit.json`.
 */
async function findEarlierJob(
  transport: RemoteTransport,
  files: RunDirFiles,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<string | undefined> {
  const records = await readStepRecords(transport, files.record, files.intent, signal);
  if (records.jobId !== undefined) {
    log(
      `reattaching to Slurm job ${records.jobId} from ${files.record} (this step was launched before; not submitting again)`,
    );
    return records.jobId;
  }
  if (records.intendedJobName === undefined) return undefined;
  const found = await findJobByName(transport, records.intendedJobName, signal);
  if (found === undefined) {
    log(
      `an earlier launch of this step stopped before Slurm accepted its job (${records.intendedJobName}); submitting`,
    );
    return undefined;
  }
  log(
    `reattaching to Slurm job ${found}, found by its name ${records.intendedJobName} (an earlier launch died before writing job.json)`,
  );
  return found;
}

/** The durable record `job.json` written right after submission, for reattaching later. */
export function jobRecord(step: SubmittedStep, context: StepContext): string {
  const record = {
    jobId: step.jobId,
    runId: context.data.run_id,
    step: step.layout.step,
    assetKeys: context.data.asset_keys,
    partition: context.data.partition_key ?? context.data.partition_key_range,
    runDir: step.layout.runDir,
    submittedAt: new Date(step.submittedAt).toISOString(),
  };
  return `${JSON.stringify(record, null, 2)}\n`;
}
