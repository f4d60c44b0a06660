import { isDagsterPipesProcess } from '@slurm-pipes/pipes-protocol';
import type { RunArgs } from '../cli/run-args.js';
import { envLayers } from '../config/env-layer.js';
import { type ConfigLayer, fileLayer, resolveConfig } from '../config/load-config.js';
import type { BridgeConfig } from '../config/schema.js';
import { BridgeError } from '../errors.js';
import { resolvePayloadCommand } from '../payload/payload-command.js';
import { relayToDagster } from './relay-to-dagster.js';
import { runStandalone } from './run-standalone.js';

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

/**
 * `slurm-pipes run`: relays to Dagster when Dagster launched the bridge, else runs standalone.
 * Returns the process exit code.
 */
export async function runCommand(args: RunArgs, io: RunIo): Promise<number> {
  const prepare = () => {
    const config = runConfig(args, io.env);
    if (config.mode === 'slurm') {
      throw new BridgeError(
        'ERR_BRIDGE_MODE',
        'Slurm mode is not available in this build of slurm-pipes yet. Use mode "local" (--mode local, SLURM_PIPES_MODE=local, or ComputeResource(mode="local")).',
      );
    }
    const payload = resolvePayloadCommand(args.payload, {
      python: config.local.python,
      ...(config.local.node === undefined ? {} : { node: config.local.node }),
    });
    return { config, payload };
  };
  if (isDagsterPipesProcess({ env: io.env, argv: [] })) {
    return relayToDagster({ prepare, env: io.env, signal: io.signal });
  }
  const { config, payload } = prepare();
  return runStandalone({
    config,
    payload,
    context: args.standalone,
    env: io.env,
    json: args.json,
    write: (line) => io.stdout.write(`${line}\n`),
    payloadStdout: args.json ? io.stderr : io.stdout,
    signal: io.signal,
  });
}
