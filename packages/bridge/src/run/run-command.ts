import { isDagsterPipesProcess } from '@slurm-pipes/pipes-protocol';
import type { RunArgs } from '../cli/run-args.js';
import { envLayers } from '../config/env-layer.js';
import { type ConfigLayer, fileLayer, resolveConfig } from '../config/load-config.js';
import type { BridgeConfig } from '../config/schema.js';
import { resolvePayloadCommand } from '../payload/payload-command.js';
import { executeLocal } from './execute-local.js';
import { executeSlurm } from './execute-slurm.js';
import { relayToDagster } from './relay-to-dagster.js';
import { runStandalone } from './run-standalone.js';
import type { StepExecutor } from './step-executor.js';

/** The process-level things `slurm-pipes run` uses, injectable for tests. */
export interface RunIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
}

/** Resolves the configuration of a run from its flags and environment. */
export function runConfig(args: RunArgs, env: NodeJS.ProcessEnv): BridgeConfig {
  const layers: ConfigLayer[] = [];
  if (args.configFile !== undefined) layers.push(fileLayer(args.configFile));
  layers.push(...envLayers(env), args.flagLayer);
  return resolveConfig(layers);
}

/** The step executor of a mode. */
export function executorFor(config: BridgeConfig): StepExecutor {
  switch (config.mode) {
    case 'local':
      return executeLocal;
    case 'slurm':
      return executeSlurm;
  }
}

/**
 * `slurm-pipes run`: relays to Dagster when Dagster launched the bridge, else plays Dagster's
 * part itself and prints the events. Returns the process exit code.
 */
export async function runCommand(args: RunArgs, io: RunIo): Promise<number> {
  const prepare = () => {
    const config = runConfig(args, io.env);
    const payload = resolvePayloadCommand(args.payload, {
      python: config.local.python,
      ...(config.local.node === undefined ? {} : { node: config.local.node }),
    });
    return { config, payload };
  };
  const log = (line: string) => io.stderr.write(`slurm-pipes: ${line}\n`);
  const relay = { prepare, executorFor, signal: io.signal, log };
  if (isDagsterPipesProcess({ env: io.env, argv: [] })) {
    return relayToDagster({ ...relay, env: io.env, output: { stdout: io.stdout, stderr: io.stderr } });
  }
  // Fail before any output when the run can't start (bad flags, missing payload).
  prepare();
  return runStandalone({
    ...relay,
    env: io.env,
    context: args.standalone,
    json: args.json,
    write: (line) => io.stdout.write(`${line}\n`),
    // With --json, stdout carries only events: the payload's own output goes to stderr.
    output: { stdout: args.json ? io.stderr : io.stdout, stderr: io.stderr },
  });
}
