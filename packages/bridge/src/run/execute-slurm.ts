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

/** Slurm mode: one job per step on the cluster, its messages relayed live (see runSlurmStep). */
export async function executeSlurm(step: StepContext): Promise<StepOutcome> {
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
    ...(step.config.slurm?.python === undefined ? {} : { remotePython: step.config.slurm.python }),
    ...(step.config.slurm?.node === undefined ? {} : { remoteNode: step.config.slurm.node }),
  });
  return { exitCode: result.exitCode, exception: result.exception };
}
