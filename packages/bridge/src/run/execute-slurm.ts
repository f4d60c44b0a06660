import { runSlurmStep } from '../slurm/index.js';
import type { StepContext, StepOutcome } from './step-executor.js';

/**
 * The command that starts the multiplexing daemon: this same bridge (same Node, same flags,
 * same entry script) with `mux serve`, so every bridge process shares one SSH login per host.
 */
export function muxDaemonCommand(): string[] {
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot tell the bridge entry script (process.argv[1] is empty)');
  return [process.execPath, ...process.execArgv, script, 'mux', 'serve'];
}

/**
 * Test hook: with `SLURM_PIPES_TEST_CRASH_AFTER_SUBMIT=1` the bridge exits with 137 (as if
 * SIGKILLed) the moment sbatch returned, before `job.json` exists, so tests can check that a
 * re-launch finds the job by its unique name instead of submitting it again.
 */
export function crashAfterSubmitHook(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): ((jobId: string) => void) | undefined {
  if (env.SLURM_PIPES_TEST_CRASH_AFTER_SUBMIT !== '1') return undefined;
  return (jobId) => {
    log(`SLURM_PIPES_TEST_CRASH_AFTER_SUBMIT: exiting right after sbatch returned job ${jobId}`);
    process.exit(137);
  };
}

/** Slurm mode: one job per step on the cluster, its messages relayed live (see runSlurmStep). */
export async function executeSlurm(step: StepContext): Promise<StepOutcome> {
  const onSubmitted = crashAfterSubmitHook(step.env, step.log);
  const result = await runSlurmStep({
    config: step.config,
    payload: step.payload,
    channel: step.channel,
    contextData: step.contextData,
    env: step.env,
    signal: step.signal,
    log: step.log,
    stdout: step.output.stdout,
    stderr: step.output.stderr,
    connection: { daemonCommand: muxDaemonCommand() },
    ...(onSubmitted === undefined ? {} : { onSubmitted }),
    ...(step.config.slurm?.python === undefined ? {} : { remotePython: step.config.slurm.python }),
    ...(step.config.slurm?.node === undefined ? {} : { remoteNode: step.config.slurm.node }),
  });
  return { exitCode: result.exitCode, exception: result.exception };
}
