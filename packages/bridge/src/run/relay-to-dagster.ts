import {
  loadPipesBootstrap,
  openMessageWriterChannel,
  type PipesException,
  toPipesException,
} from '@slurm-pipes/pipes-protocol';
import type { BridgeConfig } from '../config/schema.js';
import type { PayloadCommand } from '../payload/payload-command.js';
import { pipesEnvelope } from './envelope.js';
import type { StepExecutor } from './step-executor.js';

/** What {@link relayToDagster} needs from its caller. */
export interface RelayOptions {
  /** Resolves configuration and payload; called after the channel to Dagster is open, so its errors reach Dagster. */
  prepare: () => { config: BridgeConfig; payload: PayloadCommand };
  /** Picks how the step runs for the resolved configuration. */
  executorFor: (config: BridgeConfig) => StepExecutor;
  /** Environment with Dagster's Pipes bootstrap (`DAGSTER_PIPES_CONTEXT`/`_MESSAGES`). */
  env: NodeJS.ProcessEnv;
  /** Aborted when Dagster asks the bridge to stop (SIGINT/SIGTERM). */
  signal: AbortSignal;
  log: (line: string) => void;
  /** Where the payload's stdout and stderr go. @default process.stdout / process.stderr */
  output?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
}

/**
 * Dagster launched the bridge: open our own Pipes channel to Dagster (`opened` first), run the
 * step in the configured mode, and close the channel with the step's exception. Every error,
 * configuration errors included, reaches Dagster in `closed`. Returns the exit code (non-zero
 * fails the Dagster step).
 */
export async function relayToDagster(options: RelayOptions): Promise<number> {
  const bootstrap = loadPipesBootstrap({ env: options.env, argv: [] });
  const channel = openMessageWriterChannel(bootstrap.messagesParams);
  channel.write(pipesEnvelope('opened', { extras: {} }));
  let closedSent = false;
  const sendClosed = async (exception: PipesException | null) => {
    if (closedSent) return;
    closedSent = true;
    channel.write(pipesEnvelope('closed', exception === null ? {} : { exception }));
    await channel.close();
  };
  try {
    const { config, payload } = options.prepare();
    const outcome = await options.executorFor(config)({
      config,
      payload,
      channel,
      contextData: bootstrap.rawContextData,
      env: options.env,
      signal: options.signal,
      log: options.log,
      output: options.output ?? { stdout: process.stdout, stderr: process.stderr },
    });
    await sendClosed(outcome.exception);
    return outcome.exitCode;
  } catch (error) {
    await sendClosed(toPipesException(error));
    throw error;
  }
}
