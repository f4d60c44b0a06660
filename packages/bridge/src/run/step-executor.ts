import type { PipesException, PipesMessageChannel } from '@slurm-pipes/pipes-protocol';
import type { BridgeConfig } from '../config/schema.js';
import type { PayloadCommand } from '../payload/payload-command.js';

/** Everything a mode needs to run one step's payload and relay its messages. */
export interface StepContext {
  config: BridgeConfig;
  payload: PayloadCommand;
  /** The channel to Dagster; `opened` is already sent, `closed` is sent by the caller. */
  channel: PipesMessageChannel;
  /** Dagster's context data exactly as Dagster wrote it. */
  contextData: Record<string, unknown>;
  /** The bridge's environment. */
  env: NodeJS.ProcessEnv;
  /** Aborted when the bridge is asked to stop. */
  signal: AbortSignal;
  /** Human progress lines (stderr). */
  log: (line: string) => void;
  /** Where the payload's stdout and stderr are forwarded. */
  output: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
}

/** How a step ended: the bridge's exit code and the exception for its `closed` message. */
export interface StepOutcome {
  exitCode: number;
  exception: PipesException | null;
}

/** Runs a step in one mode (local process, Slurm job). */
export type StepExecutor = (step: StepContext) => Promise<StepOutcome>;
