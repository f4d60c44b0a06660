import { posix } from 'node:path';
import { encodeParam } from '@slurm-pipes/pipes-protocol';
import { type RemoteTransport, type SlurmJobResources, submitJob } from '@slurm-pipes/slurm-transport';
import type { BridgeConfig } from '../config/schema.js';
import type { PayloadCommand } from '../payload/payload-command.js';
import { buildBashLauncher } from './launchers/bash-launcher.js';
import { payloadArgs, stagePayload } from './payload/stage-payload.js';
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
  const submitStartedAt = Date.now();
  const jobId = await submitJob(transport, {
    resources: options.resources,
    jobName: `slurm-pipes-${layout.step}`,
    workDir: layout.runDir,
    stdoutPath: files.stdout,
    stderrPath: files.stderr,
    scriptPath: files.script,
  });
  return { jobId, layout, files, submitStartedAt, submittedAt: Date.now() };
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
